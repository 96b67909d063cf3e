/* Load client for riftgate-hub (bench/hub-load.sh): N WebSocket connections over loopback,
 * spread over networks of P peers (/connect/benchK), each joins; then offers are relayed
 * between peers of the same network at a fixed total rate and their one-way latency is
 * measured (the send time rides in the sdp field; one process, one monotonic clock).
 *
 * A minimal RFC 6455 client on epoll (no TLS, no extensions, zero masking key) so the client
 * costs little next to the hub it measures. Bounded: every phase has a deadline.
 *
 *   bench-hub-load PORT N P RELAYS RATE HUB_PID
 * Prints one "key value" line per figure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECTING, ST_HANDSHAKE, ST_JOINING, ST_JOINED, ST_DEAD };
enum { MAX_INFLIGHT = 200, PHASE_TIMEOUT_S = 90 };

struct conn {
	int fd;
	int state;
	int net, idx;
	uint64_t t0;
	char *buf;
	size_t len, cap;
};

static struct conn *conns;
static int n_conns, per_net, epfd, port;
static uint64_t *lat;
static size_t n_lat, cap_lat;
static long joined, dead, errors_seen, peers_frames;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };

			poll(&pf, 1, 1000);
			continue;
		}
		if (w < 0)
			return;	/* peer gone: the read side notices */
		c += w;
		n -= (size_t)w;
	}
}

/* Masked client text frame (masking key 0: the payload is sent as is). */
static void send_text(struct conn *c, const char *s, size_t n)
{
	unsigned char h[8];
	size_t hl = 0;
	char stack[1024];

	h[hl++] = 0x81;
	if (n < 126) {
		h[hl++] = 0x80 | (unsigned char)n;
	} else {
		h[hl++] = 0x80 | 126;
		h[hl++] = (unsigned char)(n >> 8);
		h[hl++] = (unsigned char)n;
	}
	memset(h + hl, 0, 4);
	hl += 4;
	if (hl + n <= sizeof(stack)) {
		memcpy(stack, h, hl);
		memcpy(stack + hl, s, n);
		write_all(c->fd, stack, hl + n);
	} else {
		write_all(c->fd, h, hl);
		write_all(c->fd, s, n);
	}
}

static void start_connect(struct conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = ST_CONNECTING;
	c->t0 = now_ns();
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		die("connect");
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void kill_conn(struct conn *c)
{
	if (c->state == ST_DEAD)
		return;
	c->state = ST_DEAD;
	dead++;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
}

static void on_text(struct conn *c, const char *p, size_t n)
{
	const char *t;

	if (n > 15 && !memcmp(p, "{\"type\":\"peers\"", 15)) {
		peers_frames++;
		if (c->state == ST_JOINING) {
			c->state = ST_JOINED;
			joined++;
		}
	} else if (n > 15 && !memcmp(p, "{\"type\":\"offer\"", 15) &&
		   (t = memmem(p, n, "\"sdp\":\"t=", 9))) {
		uint64_t sent = strtoull(t + 9, NULL, 10);

		if (n_lat == cap_lat) {
			cap_lat = cap_lat ? cap_lat * 2 : 4096;
			lat = realloc(lat, cap_lat * sizeof(*lat));
		}
		lat[n_lat++] = now_ns() - sent;
	} else if (n > 15 && !memcmp(p, "{\"type\":\"error\"", 15)) {
		if (errors_seen++ < 5)
			fprintf(stderr, "hub error: %.*s\n", (int)(n > 200 ? 200 : n), p);
	}
}

/* Consumes complete frames from c->buf. */
static void parse_frames(struct conn *c)
{
	size_t off = 0;

	while (c->len - off >= 2) {
		unsigned char *b = (unsigned char *)c->buf + off;
		uint64_t n = b[1] & 0x7f;
		size_t hl = 2;

		if (n == 126) {
			if (c->len - off < 4)
				break;
			n = (uint64_t)b[2] << 8 | b[3];
			hl = 4;
		} else if (n == 127) {
			if (c->len - off < 10)
				break;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | b[2 + i];
			hl = 10;
		}
		if (c->len - off < hl + n)
			break;
		switch (b[0] & 0x0f) {
		case 1:
			on_text(c, (char *)b + hl, (size_t)n);
			break;
		case 8:
			kill_conn(c);
			return;
		case 9: {	/* ping -> pong with the same payload */
			unsigned char h[2 + 4 + 125];

			h[0] = 0x8a;
			h[1] = 0x80 | (unsigned char)n;
			memset(h + 2, 0, 4);
			memcpy(h + 6, b + hl, (size_t)n);
			write_all(c->fd, h, 6 + (size_t)n);
			break;
		}
		default:
			break;
		}
		off += hl + (size_t)n;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

static void on_readable(struct conn *c)
{
	for (;;) {
		if (c->cap - c->len < 4096) {
			c->cap = c->cap ? c->cap * 2 : 16384;
			c->buf = realloc(c->buf, c->cap);
		}
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			kill_conn(c);
			return;
		}
		if (r < 0)
			return;
		c->len += (size_t)r;
		if (c->state == ST_HANDSHAKE) {
			char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);

			if (!end)
				continue;
			if (strncmp(c->buf, "HTTP/1.1 101", 12)) {
				fprintf(stderr, "upgrade refused: %.40s\n", c->buf);
				kill_conn(c);
				return;
			}
			size_t hl = (size_t)(end + 4 - c->buf);

			memmove(c->buf, c->buf + hl, c->len - hl);
			c->len -= hl;
			c->state = ST_JOINING;
			char join[160];
			int n = snprintf(join, sizeof(join),
					 "{\"type\":\"join\",\"peerId\":\"n%d-p%d\",\"publicKey\":"
					 "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
					 "\"address\":\"10.%d.%d.%d/16\"}",
					 c->net, c->idx, 10 + c->net / 256, c->idx / 250, c->idx % 250 + 1);
			send_text(c, join, (size_t)n);
		}
		parse_frames(c);
		if (c->state == ST_DEAD)
			return;
	}
}

static void on_writable(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	int err = 0;
	socklen_t el = sizeof(err);
	char req[256];
	int n;

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		errno = err;
		perror("connect");
		kill_conn(c);
		return;
	}
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	n = snprintf(req, sizeof(req),
		     "GET /connect/bench%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		     "Sec-WebSocket-Version: 13\r\n\r\n", c->net, port);
	c->state = ST_HANDSHAKE;
	write_all(c->fd, req, (size_t)n);
}

static void pump(int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(epfd, evs, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct conn *c = evs[i].data.ptr;

		if (c->state == ST_DEAD)
			continue;
		if (c->state == ST_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			on_writable(c);
		else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			on_readable(c);
	}
}

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* CPU time (user + system) the hub has used so far, in ms: a load-independent cost figure. */
static double cpu_ms(int pid)
{
	char path[64], buf[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');	/* comm may contain spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int relays, rate, hub_pid, started = 0;
	uint64_t t_start, t_joined, deadline;

	if (argc != 7) {
		fprintf(stderr, "usage: bench-hub-load PORT N P RELAYS RATE HUB_PID\n");
		return 2;
	}
	port = atoi(argv[1]);
	n_conns = atoi(argv[2]);
	per_net = atoi(argv[3]);
	relays = atoi(argv[4]);
	rate = atoi(argv[5]);
	hub_pid = atoi(argv[6]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	conns = calloc((size_t)n_conns, sizeof(*conns));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < n_conns; i++) {
		conns[i].net = i / per_net;
		conns[i].idx = i % per_net;
	}
	printf("rss_idle_kb %ld\n", rss_kb(hub_pid));

	/* phase 1: connect + join, at most MAX_INFLIGHT handshakes in flight */
	double cpu0 = cpu_ms(hub_pid);

	t_start = now_ns();
	deadline = t_start + PHASE_TIMEOUT_S * 1000000000ull;
	while (joined + dead < n_conns && now_ns() < deadline) {
		while (started < n_conns && started - joined - dead < MAX_INFLIGHT)
			start_connect(&conns[started++]);
		pump(10);
	}
	t_joined = now_ns();
	double join_s = (double)(t_joined - t_start) / 1e9;

	{
		long st[5] = { 0 };

		for (int i = 0; i < started; i++)
			st[conns[i].state]++;
		fprintf(stderr, "states: connecting %ld handshake %ld joining %ld joined %ld dead %ld (started %d)\n",
			st[0], st[1], st[2], st[3], st[4], started);
	}
	printf("connections %d\nnetworks %d\npeers_per_network %d\n", n_conns,
	       (n_conns + per_net - 1) / per_net, per_net);
	printf("joined %ld\nfailed %ld\n", joined, dead);
	printf("join_seconds %.3f\njoins_per_second %.0f\n", join_s, (double)joined / join_s);
	double cpu1 = cpu_ms(hub_pid);

	if (joined)
		printf("hub_cpu_us_per_join %.1f\n", (cpu1 - cpu0) * 1000.0 / (double)joined);

	/* let the join fan-out settle, then measure the hub holding everyone */
	uint64_t settle = now_ns() + 2000000000ull;

	while (now_ns() < settle)
		pump(10);
	printf("rss_joined_kb %ld\n", rss_kb(hub_pid));

	/* phase 2: offers between neighbours in the same network, paced at RATE per second over
	 * all senders (each sender stays far below the hub's 50 frames/s per connection) */
	double cpu2 = cpu_ms(hub_pid);
	uint64_t t_rel = now_ns(), interval = 1000000000ull / (uint64_t)rate;
	int sent = 0, sender = 0, skipped = 0;

	deadline = t_rel + PHASE_TIMEOUT_S * 1000000000ull;
	while (sent < relays && now_ns() < deadline) {
		uint64_t due = t_rel + (uint64_t)sent * interval;

		while (sent < relays && now_ns() >= due) {
			struct conn *c = &conns[sender];
			int to = (c->idx + 1) % per_net;
			char offer[200];

			sender = (sender + 7919) % n_conns;	/* spread senders */
			if (c->state != ST_JOINED || c->net * per_net + to >= n_conns) {
				if (++skipped > n_conns)
					goto out;	/* nobody left to send from */
				continue;
			}
			skipped = 0;
			int n = snprintf(offer, sizeof(offer),
					 "{\"type\":\"offer\",\"to\":\"n%d-p%d\",\"sdp\":\"t=%llu\"}",
					 c->net, to, (unsigned long long)now_ns());
			send_text(c, offer, (size_t)n);
			sent++;
			due = t_rel + (uint64_t)sent * interval;
		}
		pump(1);
	}
out:;
	uint64_t drain = now_ns() + 3000000000ull;

	while (n_lat < (size_t)sent && now_ns() < drain)
		pump(10);
	printf("relay_rate_per_second %d\nrelays_sent %d\nrelays_received %zu\n", rate, sent, n_lat);
	if (n_lat)
		printf("hub_cpu_us_per_relay %.1f\n", (cpu_ms(hub_pid) - cpu2) * 1000.0 / (double)n_lat);
	if (n_lat) {
		qsort(lat, n_lat, sizeof(*lat), cmp_u64);
		printf("relay_p50_ms %.3f\nrelay_p99_ms %.3f\nrelay_max_ms %.3f\n",
		       (double)lat[n_lat / 2] / 1e6, (double)lat[n_lat * 99 / 100] / 1e6,
		       (double)lat[n_lat - 1] / 1e6);
	}
	printf("rss_after_relay_kb %ld\n", rss_kb(hub_pid));
	printf("hub_errors %ld\nstill_open %ld\n", errors_seen, (long)n_conns - dead);
	fflush(stdout);
	for (int i = 0; i < n_conns; i++) {
		if (conns[i].state != ST_DEAD)
			close(conns[i].fd);
		free(conns[i].buf);
	}
	free(conns);
	free(lat);
	return joined == n_conns && n_lat == (size_t)sent ? 0 : 1;
}
