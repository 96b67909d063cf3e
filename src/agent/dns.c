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
#include "agent/resolved.h"
#include "agent/status.h"
#include "net/dns.h"
#include "trust/cert.h"
#include "util/log.h"
#include "util/sockaddr.h"

enum {
	DNS_PORT = 53,
	DNS_TTL_S = 60,
	DNS_BATCH = 32,			/* queries per wakeup */
	DNS_ZONE_MAX = 160,
	DNS_SERVERS_MAX = 4,		/* [network] dns entries (CONF_DNS_MAX) */
	DNS_PENDING_MAX = 64,		/* forwarded queries waiting for an answer */
	DNS_FORWARD_TIMEOUT_S = 5,	/* then the slot is free and the next server is used */
	DNS_RESPONSE_MAX = 4096,	/* an upstream answer passed on (the client's EDNS size) */
};

/* A query forwarded upstream under our own random id, waiting for its answer. */
struct dns_pending {
	bool used;
	uint16_t up_id, client_id;
	uint16_t qtype, qclass;
	gint64 sent_us;
	struct sockaddr_storage from;
	socklen_t flen;
	char name[NET_DNS_NAME_MAX + 1];
};

struct dns_upstream {
	/* UDP, not connected: a connected socket would keep the source address chosen at
	 * connect time, and an exit node selected later needs the tunnel's */
	int fd;
	guint src;
	struct agent_dns *d;
	struct sockaddr_storage sa;	/* ADDR:53; answers from elsewhere are dropped */
	socklen_t salen;
	char addr[RG_PREFIX_STR_MAX];
};

struct agent_dns {
	struct agent *a;
	int fd;
	guint src;
	char zone[DNS_ZONE_MAX + 1];	/* "<network>.<domain>", lower case */
	char listen[AGENT_ADDR_MAX + 8];
	/* queries answered from the zone, sent upstream, that got SERVFAIL or no answer (no server
	 * slot, send error, upstream timeout), REFUSED, malformed; upstream datagrams dropped */
	uint64_t answered, forwarded, failed, refused, malformed, forward_dropped;
	struct agent_resolved *resolved;	/* owned; NULL without a responder */
	struct rg_prefix addr;			/* the responder's address */
	char ip[RG_PREFIX_STR_MAX];		/* ... as text */
	char source[40];			/* "config" or "network N": whose dns/search */
	/* the file's [network] dns and search as last applied (a reload compares) */
	char **cfg_servers, **cfg_search;	/* owned, NULL-terminated */
	struct dns_upstream up[DNS_SERVERS_MAX];
	size_t n_up, cur;		/* queries go to up[cur]; a timeout moves to the next */
	struct dns_pending pending[DNS_PENDING_MAX];
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

/* The zone itself or a name under it. */
static bool in_zone(const struct agent_dns *d, const struct net_dns_query *q)
{
	size_t nl = strlen(q->name), zl = strlen(d->zone);

	return (nl == zl || (nl > zl + 1 && q->name[nl - zl - 1] == '.')) &&
	       strcmp(q->name + nl - zl, d->zone) == 0;
}

/* A free slot, expiring old ones (an expired one moves on to the next server); NULL = full. */
static struct dns_pending *pending_slot(struct agent_dns *d)
{
	gint64 now = g_get_monotonic_time();
	struct dns_pending *free_slot = NULL;

	for (size_t i = 0; i < DNS_PENDING_MAX; i++) {
		struct dns_pending *p = &d->pending[i];

		if (p->used && now - p->sent_us > (gint64)DNS_FORWARD_TIMEOUT_S * G_USEC_PER_SEC) {
			p->used = false;
			d->failed++;
			if (d->n_up > 1) {
				d->cur = (d->cur + 1) % d->n_up;
				rg_log(RG_LOG_INFO, "%s: DNS server %s did not answer in %d s; using %s",
				       d->a->ifname, d->up[(d->cur + d->n_up - 1) % d->n_up].addr,
				       DNS_FORWARD_TIMEOUT_S, d->up[d->cur].addr);
			}
		}
		if (!p->used && !free_slot)
			free_slot = p;
	}
	return free_slot;
}

/* Sends the query in pkt upstream under a fresh id; false when it cannot (no server, full). */
static bool forward(struct agent_dns *d, const struct net_dns_query *q, const uint8_t *pkt,
		    size_t len, const struct sockaddr_storage *from, socklen_t flen)
{
	struct dns_pending *p;
	uint8_t buf[NET_DNS_UDP_MAX * 2];

	if (!d->n_up || len > sizeof(buf) || d->up[d->cur].fd < 0 || !(p = pending_slot(d)))
		return false;
	memcpy(buf, pkt, len);
	p->up_id = (uint16_t)g_random_int();
	buf[0] = (uint8_t)(p->up_id >> 8);
	buf[1] = (uint8_t)p->up_id;
	if (sendto(d->up[d->cur].fd, buf, len, 0, (struct sockaddr *)&d->up[d->cur].sa,
		   d->up[d->cur].salen) != (ssize_t)len)
		return false;
	p->used = true;
	p->client_id = q->id;
	p->qtype = q->qtype;
	p->qclass = q->qclass;
	p->sent_us = g_get_monotonic_time();
	memcpy(&p->from, from, flen);
	p->flen = flen;
	g_strlcpy(p->name, q->name, sizeof(p->name));
	d->forwarded++;
	return true;
}

/* An upstream server answered: pass it on to whoever asked, under their id. Hostile bytes:
 * only a response to a pending query (our id, the same question) is passed on. */
static gboolean upstream_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct dns_upstream *u = data;
	struct agent_dns *d = u->d;

	(void)cond;
	for (int i = 0; i < DNS_BATCH; i++) {
		uint8_t buf[DNS_RESPONSE_MAX];
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		struct net_dns_query r;
		struct dns_pending *p = NULL;

		if (n < 0)
			break;
		if (rg_sockaddr_same(&from, &u->sa, true) &&
		    net_dns_parse_response(&r, buf, (size_t)n) == NET_DNS_OK)
			for (size_t j = 0; j < DNS_PENDING_MAX && !p; j++) {
				struct dns_pending *c = &d->pending[j];

				if (c->used && c->up_id == r.id && c->qtype == r.qtype &&
				    c->qclass == r.qclass && !strcmp(c->name, r.name))
					p = c;
			}
		if (!p) {
			d->forward_dropped++;
			continue;
		}
		buf[0] = (uint8_t)(p->client_id >> 8);
		buf[1] = (uint8_t)p->client_id;
		(void)sendto(d->fd, buf, (size_t)n, 0, (struct sockaddr *)&p->from, p->flen);
		p->used = false;
	}
	return G_SOURCE_CONTINUE;
}

static size_t answer(struct agent_dns *d, const struct net_dns_query *q, uint8_t *out)
{
	size_t nl = strlen(q->name), zl = strlen(d->zone);
	char id[NET_DNS_NAME_MAX + 1];
	struct rg_prefix p;
	bool four;

	if (q->qclass != 1 || !in_zone(d, q)) {
		d->refused++;
		return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_REFUSED, NULL, 0, 0);
	}
	d->answered++;
	if (nl == zl)			/* the zone itself: it exists, no records of its own */
		return net_dns_answer(out, NET_DNS_UDP_MAX, q, NET_DNS_NOERROR, NULL, 0, 0);
	memcpy(id, q->name, nl - zl - 1);
	id[nl - zl - 1] = '\0';
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
			if (d->n_up && !in_zone(d, &q)) {
				if (!forward(d, &q, in, (size_t)n, &from, flen)) {
					d->failed++;
					len = net_dns_answer(out, sizeof(out), &q, NET_DNS_SERVFAIL,
							     NULL, 0, 0);
				}
				break;
			}
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

/* p's address at port 53 in *ss; returns the length to pass with it. */
static socklen_t dns_sockaddr(const struct rg_prefix *p, struct sockaddr_storage *ss)
{
	if (p->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(DNS_PORT);
		memcpy(&s4->sin_addr, p->addr, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(DNS_PORT);
	memcpy(&s6->sin6_addr, p->addr, 16);
	return sizeof(*s6);
}

/* A UDP socket for forwarded queries to addr:53. Its fwmark is cleared: with an exit
 * node the forwarded queries then take the exit's table, through the tunnel (DNS follows the
 * exit); without one no rule looks at the mark. */
static void upstream_open(struct agent_dns *d, struct dns_upstream *u, const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct rg_prefix p;
	socklen_t slen;
	uint32_t nomark = 0;

	u->fd = -1;
	g_strlcpy(u->addr, addr, sizeof(u->addr));
	if (!rg_prefix_parse_addr(&p, addr))
		return;
	slen = dns_sockaddr(&p, &ss);
	u->fd = socket(p.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd >= 0)
		(void)setsockopt(u->fd, SOL_SOCKET, SO_MARK, &nomark, sizeof(nomark));
	memcpy(&u->sa, &ss, slen);
	u->salen = slen;
	u->d = d;
	if (u->fd < 0) {
		rg_log(RG_LOG_WARN, "%s: DNS server %s unusable: %s", d->a->ifname, addr,
		       g_strerror(errno));
		if (u->fd >= 0)
			close(u->fd);
		u->fd = -1;
		return;
	}
	{
		GSource *s = g_unix_fd_source_new(u->fd, G_IO_IN);

		g_source_set_callback(s, (GSourceFunc)(void (*)(void))upstream_readable, u, NULL);
		u->src = g_source_attach(s, d->a->ctx);
		g_source_unref(s);
	}
}

static void upstreams_close(struct agent_dns *d)
{
	for (size_t i = 0; i < d->n_up; i++) {
		if (d->up[i].src)
			g_source_remove(d->up[i].src);
		if (d->up[i].fd >= 0)
			close(d->up[i].fd);
	}
	memset(d->up, 0, sizeof(d->up));
	memset(d->pending, 0, sizeof(d->pending));
	d->n_up = 0;
	d->cur = 0;
}

/* Where other names go (servers) and the link's search domains: from [network] dns/search or
 * from the network's signed settings, which replace them; again when newer settings come. */
static void configure(struct agent_dns *d, const char *const *servers, size_t n_servers,
		      const char *const *search, size_t n_search)
{
	struct agent *a = d->a;
	GPtrArray *link_domains = g_ptr_array_new_with_free_func(g_free);
	GString *domains = g_string_new(NULL);

	upstreams_close(d);
	for (size_t i = 0; i < n_servers && i < DNS_SERVERS_MAX; i++)
		upstream_open(d, &d->up[d->n_up++], servers[i]);
	/* The link's domains: the zone (routing only), the pushed search domains, and with DNS
	 * servers "~." so every other name goes to the responder, which forwards it. */
	g_ptr_array_add(link_domains, g_strdup_printf("~%s", d->zone));
	for (size_t i = 0; i < n_search; i++)
		g_ptr_array_add(link_domains, g_strdup(search[i]));
	if (d->n_up)
		g_ptr_array_add(link_domains, g_strdup("~."));
	for (guint i = 0; i < link_domains->len; i++) {
		const char *dom = g_ptr_array_index(link_domains, i);

		g_string_append_printf(domains, dom[0] == '~' ? "%s'%s'" : "%s%s", i ? " " : "", dom);
	}
	rg_log(RG_LOG_INFO, "%s: peer names NAME.%s answered on %s%s%s; to use them: resolvectl dns "
	       "%s %s && resolvectl domain %s %s", a->ifname, d->zone, d->listen,
	       d->n_up ? ", other names forwarded to " : "", d->n_up ? d->up[0].addr : "",
	       a->ifname, d->ip, a->ifname, domains->str);
	g_string_free(domains, TRUE);
	/* and the same through systemd-resolved, where it runs */
	agent_resolved_set(d->resolved, &d->addr, (const char *const *)link_domains->pdata,
			   link_domains->len);
	g_ptr_array_free(link_domains, TRUE);
}

static char **copy_list(const char *const *v, size_t n)
{
	char **out = g_new0(char *, n + 1);

	for (size_t i = 0; i < n; i++)
		out[i] = g_strdup(v[i]);
	return out;
}

/* list (NULL-terminated) holds exactly v[0..n). */
static bool same_list(char *const *list, const char *const *v, size_t n)
{
	size_t i = 0;

	for (; list && list[i]; i++)
		if (i >= n || strcmp(list[i], v[i]))
			return false;
	return i == n;
}

int agent_dns_new(struct agent_dns **out, struct agent *a, const struct agent_cfg *cfg)
{
	const char *network = cfg->network, *domain = cfg->dns_domain;
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
	slen = dns_sockaddr(&p, &ss);
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
	d->addr = p;
	g_strlcpy(d->ip, ip, sizeof(d->ip));
	agent_resolved_new(&d->resolved, a->ctx, a->ifname, a->tun.ifindex);
	d->cfg_servers = copy_list(cfg->dns_servers, cfg->n_dns_servers);
	d->cfg_search = copy_list(cfg->dns_search, cfg->n_dns_search);
	if (a->settings) {
		agent_dns_use_settings(d, a->settings);
		return 0;
	}
	g_strlcpy(d->source, "config", sizeof(d->source));
	configure(d, cfg->dns_servers, cfg->n_dns_servers, cfg->dns_search, cfg->n_dns_search);
	return 0;
}

void agent_dns_use_settings(struct agent_dns *d, const struct trust_settings *s)
{
	char addrs[TRUST_DNS_MAX][RG_PREFIX_STR_MAX];
	const char *servers[TRUST_DNS_MAX], *search[TRUST_SEARCH_MAX];

	if (!d || d->fd < 0)
		return;
	for (size_t i = 0; i < s->n_dns && i < TRUST_DNS_MAX; i++) {
		struct rg_prefix p = { .family = s->dns[i].family == 4 ? AF_INET : AF_INET6 };

		memcpy(p.addr, s->dns[i].addr, sizeof(s->dns[i].addr));
		rg_prefix_format_addr(&p, addrs[i], sizeof(addrs[i]));
		servers[i] = addrs[i];
	}
	for (size_t i = 0; i < s->n_search && i < TRUST_SEARCH_MAX; i++)
		search[i] = s->search[i];
	snprintf(d->source, sizeof(d->source), "network %016llx", (unsigned long long)s->serial);
	configure(d, servers, s->n_dns, search, s->n_search);
}

int agent_dns_check(const struct agent_dns *d, const struct agent_cfg *cfg, struct rg_err *err)
{
	char zone[DNS_ZONE_MAX + 1];
	const char *domain = cfg->dns_domain ? cfg->dns_domain : AGENT_DNS_DEFAULT_DOMAIN;

	if (!d || d->fd < 0 || zone_of(zone, d->a->network, domain))
		return 0;
	return rg_err_set(err, -EINVAL, "[network] domain '%.64s': the names' zone %s.%.64s would "
			  "be longer than %d characters", domain, d->a->network, domain, DNS_ZONE_MAX);
}

void agent_dns_reconfigure(struct agent_dns *d, const struct agent_cfg *cfg)
{
	const char *domain = cfg->dns_domain ? cfg->dns_domain : AGENT_DNS_DEFAULT_DOMAIN;
	bool same_domain, same_dns;
	char zone[DNS_ZONE_MAX + 1];

	if (!d || d->fd < 0 || !zone_of(zone, d->a->network, domain))
		return;
	same_domain = !strcmp(zone, d->zone);
	same_dns = same_list(d->cfg_servers, cfg->dns_servers, cfg->n_dns_servers) &&
		   same_list(d->cfg_search, cfg->dns_search, cfg->n_dns_search);
	if (same_domain && same_dns)
		return;			/* resolved keeps its registration, queries their server */
	g_strfreev(d->cfg_servers);
	d->cfg_servers = copy_list(cfg->dns_servers, cfg->n_dns_servers);
	g_strfreev(d->cfg_search);
	d->cfg_search = copy_list(cfg->dns_search, cfg->n_dns_search);
	if (!same_domain) {
		rg_log(RG_LOG_INFO, "reload: peer names move from NAME.%s to NAME.%s", d->zone, zone);
		g_strlcpy(d->zone, zone, sizeof(d->zone));
	}
	if (d->a->settings) {
		/* the network's signed settings keep precedence over the file's dns/search */
		if (!same_dns)
			rg_log(RG_LOG_INFO, "reload: [network] dns/search changed; the network's "
			       "signed DNS settings (%s) stay in use", d->source);
		if (!same_domain)
			agent_dns_use_settings(d, d->a->settings);
		return;
	}
	/* Queries forwarded to the old servers are dropped with them: their askers retry. */
	rg_log(RG_LOG_INFO, "reload: [network] %s applied", same_domain ? "dns/search" :
	       same_dns ? "domain" : "domain/dns/search");
	configure(d, (const char *const *)d->cfg_servers, g_strv_length(d->cfg_servers),
		  (const char *const *)d->cfg_search, g_strv_length(d->cfg_search));
}

void agent_dns_free(struct agent_dns *d)
{
	if (!d)
		return;
	agent_resolved_free(d->resolved);	/* RevertLink while the link is still there */
	if (d->src)
		g_source_remove(d->src);
	upstreams_close(d);
	if (d->fd >= 0)
		close(d->fd);
	g_strfreev(d->cfg_servers);
	g_strfreev(d->cfg_search);
	g_free(d);
}

void agent_dns_status(const struct agent_dns *d, struct agent_status *s)
{
	const char *why;

	if (!d || d->fd < 0)
		return;
	g_strlcpy(s->dns_zone, d->zone, sizeof(s->dns_zone));
	g_strlcpy(s->dns_listen, d->listen, sizeof(s->dns_listen));
	s->n_dns_servers = 0;
	for (size_t i = 0; i < d->n_up && i < AGENT_STATUS_DNS_MAX; i++)
		g_strlcpy(s->dns_servers[s->n_dns_servers++], d->up[i].addr,
			  sizeof(s->dns_servers[0]));
	if (d->n_up)
		g_strlcpy(s->dns_server, d->up[d->cur].addr, sizeof(s->dns_server));
	s->dns_answered = d->answered;
	s->dns_forwarded = d->forwarded;
	s->dns_failed = d->failed;
	s->dns_refused = d->refused;
	s->dns_malformed = d->malformed;
	g_strlcpy(s->dns_resolved, agent_resolved_state(d->resolved, &why),
		  sizeof(s->dns_resolved));
	g_strlcpy(s->dns_resolved_error, why, sizeof(s->dns_resolved_error));
	g_strlcpy(s->dns_settings, d->source, sizeof(s->dns_settings));
	s->dns_settings_refused = d->a->settings_refused;
}
