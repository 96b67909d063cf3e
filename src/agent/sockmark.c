/* The agent's own traffic stays outside the tunnel when an exit node takes the default route:
 * policy routing sends every packet without the agent's fwmark to the tunnel's table (exit.c),
 * and every IPv4/IPv6 socket this process opens carries that mark, as wg-quick marks
 * WireGuard's UDP socket. The sockets that matter are opened inside GLib by libsoup (the hub
 * WebSocket) and libnice (ICE, STUN, TURN), where no option reaches them, so the process
 * provides socket(2) itself: shared libraries bind to the executable's definition. */
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
