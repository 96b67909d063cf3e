/* The agent's own traffic stays outside the tunnel when an exit node takes the default route:
 * policy routing sends every packet without the agent's fwmark to the tunnel's table (exit.c),
 * and every IPv4/IPv6 socket this process opens carries that mark, as wg-quick marks
 * WireGuard's UDP socket. The sockets that matter are opened inside GLib by libsoup (the hub
 * WebSocket) and libnice (ICE, STUN, TURN), where no option reaches them, so the process
 * provides socket(2) itself: shared libraries bind to the executable's definition.
 *
 * Why not something cleaner (reviewed for issue 16):
 *  - SO_MARK on the sockets we create plus library hooks: libnice has no hook for the sockets
 *    it makes (NiceAgent creates its UDP and TCP-TURN GSockets internally; nice_socket is
 *    private API), so ICE/STUN/TURN would stay unmarked and loop into the tunnel. libsoup 3
 *    could be reached (SoupMessage::network-event hands over the connection before it
 *    connects), but that covers the hub alone.
 *  - a uid rule (ip rule uidrange): the agent runs as root, so it would exempt every root
 *    process from the exit node.
 *  - a cgroup match (nftables "socket cgroupv2" setting the mark): needs the agent in a cgroup
 *    of its own, true under riftgate@.service but not for `riftgate up` from a shell, and a
 *    ruleset per cgroup path.
 * Known gap: glibc's stub resolver opens its UDP socket through an internal alias that this
 * definition does not replace, so the agent's own name lookups (a hub or TURN host name) are
 * not marked: with an exit node in use they go through the exit, and while the kill switch
 * blocks they are dropped (as with wg-quick). IP literals are not affected. The DNS
 * responder's forwarding sockets clear the mark on purpose (dns.c: DNS follows the exit). */
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/agent-int.h"

static _Atomic uint32_t mark;

void agent_sockmark_set(uint32_t m)
{
	atomic_store(&mark, m);
}

int socket(int domain, int type, int protocol)
{
	int fd = (int)syscall(SYS_socket, domain, type, protocol);
	uint32_t m = atomic_load(&mark);

	/* Best effort: without CAP_NET_ADMIN the mark is refused, and no exit node works anyway. */
	if (fd >= 0 && m && (domain == AF_INET || domain == AF_INET6))
		(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &m, sizeof(m));
	return fd;
}
