/* See dns.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "agent/agent-int.h"
#include "agent/dns.h"
#include "net/dns.h"
#include "util/log.h"

enum {
	DNS_PORT = 53,
	DNS_TTL_S = 60,
	DNS_BATCH = 32,			/* queries per wakeup */
	DNS_ZONE_MAX = 160,
};

struct agent_dns {
	struct agent *a;
	int fd;
	guint src;
	char zone[DNS_ZONE_MAX + 1];	/* "<network>.<domain>", lower case */
	char listen[AGENT_ADDR_MAX + 8];
	uint64_t answered, refused, malformed;
};

/* The tunnel address of peer id (or our own), parsed; false when unknown. */
static bool lookup(struct agent *a, const char *id, struct rg_prefix *out)
{
	GHashTableIter it;
	gpointer k, v;

	if (!g_ascii_strcasecmp(id, a->peer_id))
		return a->address[0] && rg_prefix_parse_addr(out, a->address);
	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct agent_peer *p = v;

		if (!g_ascii_strcasecmp(p->id, id))
			return p->address[0] && rg_prefix_parse_addr(out, p->address);
	}
	return false;
}

static size_t answer(struct agent_dns *d, const struct net_dns_query *q, uint8_t *out)
{
	size_t nl = strlen(q->name), zl = strlen(d->zone);
	char id[NET_DNS_NAME_MAX + 1];
	struct rg_prefix p;
	bool four;

	if (q->qclass != 1 || (nl != zl && (nl <= zl + 1 || q->name[nl - zl - 1] != '.')) ||
	    strcmp(q->name + nl - zl, d->zone) != 0) {
		d->refused++;
		return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_REFUSED, NULL, 0, 0);
	}
	if (nl == zl)			/* the zone itself: it exists, no records of its own */
		return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_NOERROR, NULL, 0, 0);
	memcpy(id, q->name, nl - zl - 1);
	id[nl - zl - 1] = '\0';
	d->answered++;
	if (!lookup(d->a, id, &p))
		return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_NXDOMAIN, NULL, 0, 0);
	four = p.family == AF_INET;
	if (q->qtype == NET_DNS_ANY || q->qtype == (four ? NET_DNS_A : NET_DNS_AAAA))
		return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_NOERROR, p.addr,
				      four ? 4 : 16, DNS_TTL_S);
	/* the name exists, with no record of this type */
	return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_NOERROR, NULL, 0, 0);
}

static gboolean readable(gint fd, GIOCondition cond, gpointer data)
{
	struct agent_dns *d = data;
	uint8_t in[NET_DNS_UDP_MAX * 2], out[NET_DNS_UDP_MAX];

	(void)cond;
	for (int i = 0; i < DNS_BATCH; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		struct net_dns_query q;
		ssize_t n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &flen);
		size_t len = 0;

		if (n < 0)
			break;
		switch (net_dns_parse_query(&q, in, (size_t)n)) {
		case NET_DNS_OK:
			len = answer(d, &q, out);
			break;
		case NET_DNS_BAD:
			d->malformed++;
			len = net_dns_error(out, sizeof(out), in, NET_DNS_FORMERR);
			break;
		case NET_DNS_UNSUPPORTED:
			len = net_dns_error(out, sizeof(out), in, NET_DNS_NOTIMP);
			break;
		case NET_DNS_DROP:
			d->malformed++;
			break;
		}
		if (len)
			(void)sendto(fd, out, len, 0, (struct sockaddr *)&from, flen);
	}
	return G_SOURCE_CONTINUE;
}

/* domain: 1-63-byte labels of a-z 0-9 -; the zone fits DNS_ZONE_MAX. */
static bool zone_of(char *zone, const char *network, const char *domain)
{
	int n = snprintf(zone, DNS_ZONE_MAX + 1, "%s.%s", network, domain);

	if (n < 0 || n > DNS_ZONE_MAX)
		return false;
	for (char *c = zone; *c; c++)
		*c = g_ascii_tolower(*c);
	for (const char *l = zone; *l;) {
		size_t len = strcspn(l, ".");

		if (len == 0 || len > NET_DNS_LABEL_MAX)
			return false;
		l += len + (l[len] == '.');
	}
	return true;
}

int agent_dns_new(struct agent_dns **out, struct agent *a, const char *network, const char *domain)
{
	struct agent_dns *d = g_new0(struct agent_dns, 1);
	struct sockaddr_storage ss = { 0 };
	struct rg_prefix p;
	socklen_t slen;
	int one = 1;
	char ip[RG_PREFIX_STR_MAX];

	*out = d;
	d->a = a;
	d->fd = -1;
	if (!network || !network[0] || !a->address[0] || !rg_prefix_parse_addr(&p, a->address) ||
	    !zone_of(d->zone, network, domain ? domain : AGENT_DNS_DEFAULT_DOMAIN))
		return 0;
	if (p.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(DNS_PORT);
		memcpy(&s4->sin_addr, p.addr, 4);
		slen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(DNS_PORT);
		memcpy(&s6->sin6_addr, p.addr, 16);
		slen = sizeof(*s6);
	}
	d->fd = socket(p.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* The address may still be tentative (IPv6 DAD): bind to it anyway. */
	if (d->fd >= 0)
		(void)setsockopt(d->fd, p.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
				 p.family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one,
				 sizeof(one));
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&ss, slen) < 0) {
		rg_log(RG_LOG_WARN, "%s: no peer names: cannot bind port %d on %s: %s", a->ifname,
		       DNS_PORT, a->address, g_strerror(errno));
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		return 0;
	}
	rg_prefix_format_addr(&p, ip, sizeof(ip));
	snprintf(d->listen, sizeof(d->listen), p.family == AF_INET ? "%s:%d" : "[%s]:%d", ip,
		 DNS_PORT);
	{
		GSource *s = g_unix_fd_source_new(d->fd, G_IO_IN);

		g_source_set_callback(s, (GSourceFunc)(void (*)(void))readable, d, NULL);
		d->src = g_source_attach(s, a->ctx);
		g_source_unref(s);
	}
	rg_log(RG_LOG_INFO, "%s: peer names NAME.%s answered on %s; to use them: resolvectl dns %s "
	       "%s && resolvectl domain %s '~%s'", a->ifname, d->zone, d->listen, a->ifname, ip,
	       a->ifname, d->zone);
	return 0;
}

void agent_dns_free(struct agent_dns *d)
{
	if (!d)
		return;
	if (d->src)
		g_source_remove(d->src);
	if (d->fd >= 0)
		close(d->fd);
	g_free(d);
}

void agent_dns_status(const struct agent_dns *d, struct agent_status *s)
{
	if (!d || d->fd < 0)
		return;
	g_strlcpy(s->dns_zone, d->zone, sizeof(s->dns_zone));
	g_strlcpy(s->dns_listen, d->listen, sizeof(s->dns_listen));
}
