/* `riftgate ping PEER`: ICMP echo to a peer's tunnel address, through the tunnel, with the path
 * each reply took (docs/cli.md#ping). The agent is asked over the control socket (status) for
 * the peer's address and, at every reply, for the path: the hub relay, or the selected ICE
 * pair with its type (host, srflx, prflx, relay) and both endpoints; a different path than the
 * last reply's is reported as a path change. Root only (the control socket, a raw ICMP socket). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "agent/ctl.h"
#include "agent/status.h"
#include "cli/cmds.h"
#include "net/csum.h"
#include "util/clock.h"
#include "util/err.h"

enum ping_limits {
	PING_COUNT_DEFAULT = 4,
	PING_COUNT_MAX = 100000,
	PING_WAIT_MS = 2000,		/* a reply later than this is a loss */
	PING_PAYLOAD = 32,
};

struct ping_path {
	char type[AGENT_CAND_MAX + 1];
	char local[AGENT_ENDPOINT_MAX + 1], remote[AGENT_ENDPOINT_MAX + 1];
	char local_type[AGENT_CAND_MAX + 1], remote_type[AGENT_CAND_MAX + 1];
	char state[AGENT_STATE_MAX + 1];
	char via[AGENT_STATE_MAX + 1];		/* status "path": direct, relay (the hub), "" */
	char reason[64];			/* why the hub relay */
};

/* The peer named by id or tunnel address in the agent's status; false with a message. */
static bool find_peer(const char *ifname, const char *want, char *id, size_t idcap,
		      char *addr, size_t addrcap, struct ping_path *path, bool quiet)
{
	struct rg_err err = { 0 };
	struct agent_status s;
	char *reply = NULL;
	bool found = false;

	if (agent_ctl_request(ifname, "status", 3000, &reply, &err) < 0 ||
	    agent_status_from_json(&s, reply, strlen(reply), &err) < 0) {
		if (!quiet)
			fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		g_free(reply);
		return false;
	}
	g_free(reply);
	for (size_t i = 0; i < s.n_peers && !found; i++) {
		const struct agent_status_peer *p = &s.peers[i];
		size_t al = strcspn(p->address, "/");

		if (strcmp(p->id, want) != 0 &&
		    !(al && strlen(want) == al && strncmp(p->address, want, al) == 0))
			continue;
		found = true;
		g_strlcpy(id, p->id, idcap);
		g_strlcpy(addr, p->address, MIN(addrcap, al + 1));
		g_strlcpy(path->type, p->candidate, sizeof(path->type));
		g_strlcpy(path->local, p->local_endpoint, sizeof(path->local));
		g_strlcpy(path->remote, p->remote_endpoint, sizeof(path->remote));
		g_strlcpy(path->local_type, p->local_type, sizeof(path->local_type));
		g_strlcpy(path->remote_type, p->remote_type, sizeof(path->remote_type));
		g_strlcpy(path->state, p->state, sizeof(path->state));
		g_strlcpy(path->via, p->path, sizeof(path->via));
		g_strlcpy(path->reason, p->path_reason, sizeof(path->reason));
	}
	agent_status_clear(&s);
	if (!found && !quiet)
		fprintf(stderr, "%s: %s has no peer '%s' (a peer id or tunnel address; see '%s "
			"status')\n", rg_prog, ifname, want, rg_prog);
	return found;
}

static bool hub_relay(const struct ping_path *p)
{
	return !strcmp(p->via, "relay");
}

static void path_str(const struct ping_path *p, char *out, size_t cap)
{
	if (hub_relay(p))
		snprintf(out, cap, "hub relay%s%s%s", p->reason[0] ? " (" : "", p->reason,
			 p->reason[0] ? ")" : "");
	else if (!p->type[0])
		snprintf(out, cap, "no path (%s)", p->state);
	else
		snprintf(out, cap, "%s, %s (%s) -> %s (%s)", p->type, p->local,
			 p->local_type[0] ? p->local_type : "?", p->remote,
			 p->remote_type[0] ? p->remote_type : "?");
}

static bool same_path(const struct ping_path *a, const struct ping_path *b)
{
	return !strcmp(a->via, b->via) && !strcmp(a->type, b->type) &&
	       !strcmp(a->local, b->local) && !strcmp(a->remote, b->remote);
}

/* One echo: sends seq, waits for its reply. Returns the RTT in ns, or 0 on a loss. */
static uint64_t echo(int fd, int family, const struct sockaddr_storage *dst, socklen_t dlen,
		     uint16_t ident, uint16_t seq)
{
	uint8_t pkt[8 + PING_PAYLOAD], buf[1500];
	uint64_t t0 = rg_mono_ns(), deadline = t0 + (uint64_t)PING_WAIT_MS * RG_NSEC_PER_MSEC;
	uint16_t cs;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	memcpy(pkt + 4, &(uint16_t){ htons(ident) }, 2);
	memcpy(pkt + 6, &(uint16_t){ htons(seq) }, 2);
	memcpy(pkt + 8, &t0, sizeof(t0));
	if (family == AF_INET) {	/* the kernel fills the ICMPv6 checksum itself */
		cs = net_csum_fold(net_csum_add(0, pkt, sizeof(pkt)));
		memcpy(pkt + 2, &cs, 2);
	}
	if (sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)dst, dlen) < 0)
		return 0;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = rg_mono_ns();
		const uint8_t *icmp;
		ssize_t n;
		size_t off = 0;
		uint16_t rid, rseq;

		if (now >= deadline)
			return 0;
		if (poll(&p, 1, (int)((deadline - now) / RG_NSEC_PER_MSEC) + 1) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			continue;
		if (family == AF_INET) {	/* raw IPv4 sockets see the IP header */
			if (n < 20)
				continue;
			off = (size_t)(buf[0] & 0x0f) * 4;
		}
		if ((size_t)n < off + 8)
			continue;
		icmp = buf + off;
		if (icmp[0] != (family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
			continue;
		memcpy(&rid, icmp + 4, 2);
		memcpy(&rseq, icmp + 6, 2);
		if (ntohs(rid) != ident || ntohs(rseq) != seq)
			continue;
		if (family == AF_INET &&
		    ((struct sockaddr_in *)&from)->sin_addr.s_addr !=
		    ((const struct sockaddr_in *)dst)->sin_addr.s_addr)
			continue;
		if (family == AF_INET6 &&
		    memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr,
			   &((const struct sockaddr_in6 *)dst)->sin6_addr, 16) != 0)
			continue;
		return MAX(rg_mono_ns() - t0, (uint64_t)1);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s ping [-c COUNT] [-i SECONDS] [--interface IFNAME] PEER\n"
		   "Pings PEER (a peer id or its tunnel address) through the tunnel and shows, for\n"
		   "each reply, the round trip time and the ICE candidate pair it went over (host,\n"
		   "srflx, prflx, relay; both endpoints), and when that pair changes. Default 4 pings,\n"
		   "1 s apart; -c 0 pings until interrupted. Root only.\n", rg_prog);
}

int cmd_ping(int argc, char **argv)
{
	const char *want = NULL, *ifname = NULL;
	char id[AGENT_ID_MAX + 1], addr[AGENT_ADDR_MAX + 1], ps[256];
	struct ping_path path = { 0 }, now;
	struct sockaddr_storage dst = { 0 };
	socklen_t dlen;
	GPtrArray *names = NULL;
	long count = PING_COUNT_DEFAULT;
	double interval = 1.0, min = 0, max = 0, sum = 0;
	long sent = 0, got = 0, changes = 0;
	uint16_t ident = (uint16_t)(getpid() & 0xffff);
	int fd = -1, family, ret = 1;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (cmd_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			count = strtol(argv[++i], &end, 10);
			if (*end || count < 0 || count > PING_COUNT_MAX) {
				fprintf(stderr, "%s: ping: -c must be 0-%d\n", rg_prog, PING_COUNT_MAX);
				return 1;
			}
		} else if (!strcmp(argv[i], "-i") && i + 1 < argc) {
			interval = strtod(argv[++i], &end);
			if (*end || !(interval >= 0.05 && interval <= 60)) {
				fprintf(stderr, "%s: ping: -i must be 0.05-60 seconds\n", rg_prog);
				return 1;
			}
		} else if (!strcmp(argv[i], "--interface") && i + 1 < argc) {
			ifname = argv[++i];
		} else if (argv[i][0] == '-' || want) {
			usage(stderr);
			return 1;
		} else {
			want = argv[i];
		}
	}
	if (!want) {
		usage(stderr);
		return 1;
	}
	if (!ifname) {
		/* The interface whose agent knows the peer (usually the only one running). */
		names = cli_running_interfaces();
		for (guint i = 0; i < names->len && !ifname; i++)
			if (find_peer(names->pdata[i], want, id, sizeof(id), addr, sizeof(addr),
				      &path, true))
				ifname = names->pdata[i];
		if (!ifname) {
			if (names->len)
				fprintf(stderr, "%s: no running interface has a peer '%s' (a peer id "
					"or tunnel address; see '%s status')\n", rg_prog, want, rg_prog);
			else
				fprintf(stderr, "%s: riftgate is not up\n", rg_prog);
			goto out;
		}
	} else if (!find_peer(ifname, want, id, sizeof(id), addr, sizeof(addr), &path, false)) {
		goto out;
	}
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&dst)->sin_addr) == 1) {
		family = AF_INET;
		dlen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&dst)->sin6_addr) == 1) {
		family = AF_INET6;
		dlen = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "%s: peer %s has no tunnel address yet\n", rg_prog, id);
		goto out;
	}
	dst.ss_family = (sa_family_t)family;
	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC,
		    family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (fd < 0) {
		fprintf(stderr, "%s: ping: raw ICMP socket: %s (run as root)\n", rg_prog,
			strerror(errno));
		goto out;
	}
	path_str(&path, ps, sizeof(ps));
	printf("PING %s (%s) on %s, path: %s\n", id, addr, ifname, ps);
	fflush(stdout);
	for (long seq = 1; count == 0 || seq <= count; seq++) {
		uint64_t rtt = echo(fd, family, &dst, dlen, ident, (uint16_t)seq);
		double ms = (double)rtt / 1e6;

		sent++;
		if (!rtt) {
			printf("no reply from %s, seq %ld, in %d ms\n", id, seq, PING_WAIT_MS);
		} else {
			got++;
			sum += ms;
			min = got == 1 || ms < min ? ms : min;
			max = ms > max ? ms : max;
			if (find_peer(ifname, want, id, sizeof(id), addr, sizeof(addr), &now, true)) {
				if (!same_path(&now, &path)) {
					char before[256];

					path_str(&path, before, sizeof(before));
					path_str(&now, ps, sizeof(ps));
					printf("path changed: %s => %s\n", before, ps);
					changes++;
				}
				path = now;
			}
			if (hub_relay(&path))
				printf("pong from %s (%s) seq %ld via hub-relay in %.2f ms\n", id, addr,
				       seq, ms);
			else
				printf("pong from %s (%s) seq %ld via %s %s -> %s in %.2f ms\n", id,
				       addr, seq, path.type[0] ? path.type : "?", path.local,
				       path.remote, ms);
		}
		fflush(stdout);
		if (count == 0 || seq < count) {
			uint64_t wait = (uint64_t)(interval * 1e9);
			uint64_t spent = rtt ? rtt : (uint64_t)PING_WAIT_MS * RG_NSEC_PER_MSEC;

			if (wait > spent)
				g_usleep((gulong)((wait - spent) / 1000));
		}
	}
	printf("--- %s ping: %ld sent, %ld received, %.0f%% loss", id, sent, got,
	       sent ? 100.0 * (double)(sent - got) / (double)sent : 0.0);
	if (got)
		printf(", rtt min/avg/max %.2f/%.2f/%.2f ms", min, sum / (double)got, max);
	printf(", %ld path change%s\n", changes, changes == 1 ? "" : "s");
	ret = got ? 0 : 1;
out:
	if (fd >= 0)
		close(fd);
	if (names)
		g_ptr_array_free(names, TRUE);
	return ret;
}
