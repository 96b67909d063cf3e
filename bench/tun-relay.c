/* The floor of any userspace tunnel on this machine, for bench/ping-ab.sh: a TUN device and a UDP
 * socket, one thread blocked in poll(2), every packet copied from one to the other as it is (no
 * encryption, no framing, no event loop library). A ping through two of these pays what
 * riftgate-wg and the direct path pay in process wakeups and kernel crossings, and nothing
 * else, so (its added latency) is what no userspace design can go below here.
 * Usage: bench-tun-relay IFNAME LOCAL_PORT PEER_IPV4 PEER_PORT (root; the caller sets the
 * interface's address and brings it up). Runs until killed. Not a product: no checks of who
 * sends the datagrams. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in local = { .sin_family = AF_INET }, peer = { .sin_family = AF_INET };
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	static char buf[65536];
	struct pollfd pfd[2];
	int tun, udp;

	if (argc != 5 || inet_pton(AF_INET, argv[3], &peer.sin_addr) != 1) {
		fprintf(stderr, "usage: %s IFNAME LOCAL_PORT PEER_IPV4 PEER_PORT\n", argv[0]);
		return 2;
	}
	local.sin_port = htons((uint16_t)atoi(argv[2]));
	peer.sin_port = htons((uint16_t)atoi(argv[4]));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) {
		perror("tun");
		return 1;
	}
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (udp < 0 || bind(udp, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(udp, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
		perror("udp");
		return 1;
	}
	pfd[0] = (struct pollfd){ .fd = tun, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = udp, .events = POLLIN };
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN) {
			n = read(tun, buf, sizeof(buf));
			if (n > 0 && send(udp, buf, (size_t)n, 0) < 0 && errno != ECONNREFUSED)
				perror("send");
		}
		if (pfd[1].revents & POLLIN) {
			n = recv(udp, buf, sizeof(buf), 0);
			if (n > 0 && write(tun, buf, (size_t)n) < 0)
				perror("write");
		}
	}
}
