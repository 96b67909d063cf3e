/* See routes.h. State: the prefixes each peer advertised (by peer id, kept across reconnects),
 * the verdict on each, and the set installed (prefix → peer) that every change is diffed
 * against, so the TUN's kernel routes and the WireGuard allowed IPs follow the verdicts exactly. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent-int.h"
#include "agent/routes.h"
#include "conf/routes.h"
#include "net/masq.h"
#include "util/log.h"

enum {
	AVOID_MAX = 64,			/* server addresses a route may not cover */
	RECHECK_MS = 1000,		/* verdicts are re-checked (verification, local networks) */
};

enum route_state { RS_NOT_ACCEPTED, RS_INSTALLED, RS_REFUSED, RS_SHADOWED, RS_EXIT };

static const char *const state_names[] = {
	[RS_NOT_ACCEPTED] = "not-accepted", [RS_INSTALLED] = "installed",
	[RS_REFUSED] = "refused", [RS_SHADOWED] = "shadowed", [RS_EXIT] = "exit-offer",
};

struct peer_route {
	char text[RG_PREFIX_STR_MAX];	/* as advertised (printable bytes only) */
	struct rg_prefix prefix;	/* family 0 when text did not parse */
	enum route_state state;
	bool seen;			/* state logged at least once */
	const char *why;		/* refused: static reason */
	char by[AGENT_ID_MAX + 1];	/* shadowed: the peer whose copy is installed */
	char overlap[160];		/* installed: another installed prefix it overlaps */
};

struct peer_routes {
	char id[AGENT_ID_MAX + 1];
	struct peer_route v[CONF_ROUTES_MAX];
	size_t n;
	size_t dropped;			/* entries past CONF_ROUTES_MAX in the last message */
};

struct installed {
	struct rg_prefix prefix;
	char id[AGENT_ID_MAX + 1];
};

struct agent_routes {
	struct agent *a;
	struct rg_prefix own[CONF_ROUTES_MAX];
	size_t n_own;
	bool masquerade, exit_offer, accept_all;
	char **accept_from;		/* strv */
	char **servers;			/* strv: hub URL, STUN and TURN URLs */
	struct rg_prefix avoid[AVOID_MAX];	/* their addresses, resolved once */
	size_t n_avoid;
	bool avoid_done;
	struct rg_prefix tun;		/* our tunnel address (family, subnet) */
	GHashTable *peers;		/* id → owned struct peer_routes * */
	GArray *inst;			/* struct installed */
	bool nat_on, fwd_set;
	int fwd_was;
	guint timer;
};

static void apply(struct agent_routes *r);

/* A peer verified later, a local network that appeared: verdicts can change without a message. */
static gboolean recheck(gpointer data)
{
	struct agent_routes *r = data;

	if (g_hash_table_size(r->peers))
		apply(r);
	return G_SOURCE_CONTINUE;
}

/* accept_routes and the server list (whose addresses are resolved again when next needed). */
static void take_accept_and_servers(struct agent_routes *r, const struct agent_routes_cfg *cfg)
{
	size_t n = 0;

	g_strfreev(r->accept_from);
	g_strfreev(r->servers);
	r->accept_all = cfg->accept_all;
	r->accept_from = g_new0(char *, cfg->n_accept_from + 1);
	for (size_t i = 0; i < cfg->n_accept_from; i++)
		r->accept_from[i] = g_strdup(cfg->accept_from[i]);
	r->servers = g_new0(char *, cfg->n_servers + 2);
	if (cfg->hub_url)
		r->servers[n++] = g_strdup(cfg->hub_url);
	for (size_t i = 0; i < cfg->n_servers; i++)
		r->servers[n++] = g_strdup(cfg->servers[i]);
	r->n_avoid = 0;
	r->avoid_done = false;
}

int agent_routes_new(struct agent_routes **out, struct agent *a, const struct agent_routes_cfg *cfg)
{
	struct agent_routes *r = g_new0(struct agent_routes, 1);

	r->a = a;
	r->n_own = MIN(cfg->n_routes, (size_t)CONF_ROUTES_MAX);
	if (r->n_own)
		memcpy(r->own, cfg->routes, r->n_own * sizeof(r->own[0]));
	r->masquerade = cfg->masquerade;
	r->exit_offer = cfg->exit_offer;
	take_accept_and_servers(r, cfg);
	if (a->address[0])
		rg_prefix_parse_addr(&r->tun, a->address);
	r->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	r->inst = g_array_new(FALSE, TRUE, sizeof(struct installed));
	if (a->ctx) {
		GSource *s = g_timeout_source_new(RECHECK_MS);

		g_source_set_callback(s, recheck, r, NULL);
		r->timer = g_source_attach(s, a->ctx);
		g_source_unref(s);
	}
	*out = r;
	return 0;
}

int agent_routes_start(struct agent_routes *r, struct rg_err *err)
{
	char pfx[RG_PREFIX_STR_MAX];
	int ret;

	if (!r->n_own && !r->exit_offer)
		return 0;
	ret = net_forwarding_set(r->tun.family, 1, &r->fwd_was);
	if (ret < 0)
		return rg_err_set(err, ret, "cannot enable IP forwarding for the advertised routes: %s",
				  g_strerror(-ret));
	r->fwd_set = true;
	if (r->masquerade) {
		if ((ret = net_masq_set(r->a->ifname, r->own, r->n_own, r->exit_offer, err)) < 0)
			return ret;
		r->nat_on = true;
	}
	for (size_t i = 0; i < r->n_own; i++) {
		rg_prefix_format(&r->own[i], pfx, sizeof(pfx));
		rg_log(RG_LOG_INFO, "%s: advertising route %s (%s)", r->a->ifname, pfx,
		       r->masquerade ? "masqueraded" : "not masqueraded");
	}
	if (r->exit_offer)
		rg_log(RG_LOG_INFO, "%s: offering to be an exit node (%s)", r->a->ifname,
		       r->masquerade ? "masqueraded" : "not masqueraded");
	return 0;
}

/* The advertising part of a reload: forwarding on before the table needs it, the table replaced
 * (or deleted), forwarding restored once nothing is advertised any more. */
static int readvertise(struct agent_routes *r, const struct rg_prefix *own, size_t n_own,
		       bool masquerade, bool exit_offer, struct rg_err *err)
{
	bool need = n_own || exit_offer;
	char pfx[RG_PREFIX_STR_MAX];
	int ret;

	if (need && !r->fwd_set) {
		ret = net_forwarding_set(r->tun.family, 1, &r->fwd_was);
		if (ret < 0)
			return rg_err_set(err, ret, "cannot enable IP forwarding for the advertised "
					  "routes: %s", g_strerror(-ret));
		r->fwd_set = true;
	}
	if (need && masquerade) {
		if ((ret = net_masq_set(r->a->ifname, own, n_own, exit_offer, err)) < 0)
			return ret;
		r->nat_on = true;
	} else if (r->nat_on) {
		if ((ret = net_masq_clear(r->a->ifname)) < 0)
			return rg_err_set(err, ret, "cannot delete the masquerade table: %s",
					  g_strerror(-ret));
		r->nat_on = false;
	}
	for (size_t i = 0; i < r->n_own; i++) {
		bool kept = false;

		for (size_t k = 0; k < n_own && !kept; k++)
			kept = rg_prefix_equal(&r->own[i], &own[k]);
		rg_prefix_format(&r->own[i], pfx, sizeof(pfx));
		if (!kept)
			rg_log(RG_LOG_INFO, "%s: no longer advertising route %s", r->a->ifname, pfx);
	}
	for (size_t k = 0; k < n_own; k++) {
		bool had = false;

		for (size_t i = 0; i < r->n_own && !had; i++)
			had = rg_prefix_equal(&r->own[i], &own[k]);
		rg_prefix_format(&own[k], pfx, sizeof(pfx));
		if (!had || masquerade != r->masquerade)
			rg_log(RG_LOG_INFO, "%s: advertising route %s (%s)", r->a->ifname, pfx,
			       masquerade ? "masqueraded" : "not masqueraded");
	}
	if (exit_offer != r->exit_offer)
		rg_log(RG_LOG_INFO, "%s: %s an exit node", r->a->ifname,
		       exit_offer ? "offering to be" : "no longer offering to be");
	memmove(r->own, own, n_own * sizeof(r->own[0]));
	r->n_own = n_own;
	r->masquerade = masquerade;
	r->exit_offer = exit_offer;
	if (!need && r->fwd_set) {
		if (!r->fwd_was)
			(void)net_forwarding_set(r->tun.family, 0, NULL);
		r->fwd_set = false;
	}
	return 0;
}

int agent_routes_reconfigure(struct agent_routes *r, const struct agent_routes_cfg *cfg,
			     bool *advertised_changed, struct rg_err *err)
{
	size_t n_own = MIN(cfg->n_routes, (size_t)CONF_ROUTES_MAX);
	bool changed = n_own != r->n_own || cfg->exit_offer != r->exit_offer;
	int ret = 0;

	for (size_t i = 0; i < n_own && !changed; i++)
		changed = !rg_prefix_equal(&cfg->routes[i], &r->own[i]);
	*advertised_changed = false;
	if (changed || cfg->masquerade != r->masquerade) {
		ret = readvertise(r, cfg->routes, n_own, cfg->masquerade, cfg->exit_offer, err);
		*advertised_changed = ret == 0 && changed;
	}
	take_accept_and_servers(r, cfg);
	apply(r);
	return ret;
}

void agent_routes_free(struct agent_routes *r)
{
	if (!r)
		return;
	if (r->timer)
		g_source_remove(r->timer);
	if (r->nat_on && net_masq_clear(r->a->ifname) < 0)
		rg_log(RG_LOG_WARN, "%s: cannot delete the masquerade table", r->a->ifname);
	if (r->fwd_set && !r->fwd_was)
		(void)net_forwarding_set(r->tun.family, 0, NULL);
	g_strfreev(r->accept_from);
	g_strfreev(r->servers);
	g_hash_table_destroy(r->peers);
	g_array_free(r->inst, TRUE);
	g_free(r);
}

char **agent_routes_advertised(const struct agent_routes *r)
{
	char **v;

	if (!r || (!r->n_own && !r->exit_offer))
		return NULL;
	v = g_new0(char *, r->n_own + 2);
	for (size_t i = 0; i < r->n_own; i++) {
		v[i] = g_malloc(RG_PREFIX_STR_MAX);
		rg_prefix_format(&r->own[i], v[i], RG_PREFIX_STR_MAX);
	}
	if (r->exit_offer)	/* the default route: "I am an exit node" */
		v[r->n_own] = g_strdup(r->tun.family == AF_INET6 ? "::/0" : "0.0.0.0/0");
	return v;
}

/* ---- the check ---- */

/* HOST of "ws://HOST:PORT/x", "wss://[v6]/x", "stun:HOST:PORT", "turns:HOST?transport=tcp". */
static bool server_host(const char *url, char *host, size_t cap)
{
	const char *s = strstr(url, "://"), *e;

	s = s ? s + 3 : strchr(url, ':');
	if (!s)
		return false;
	if (*s == ':')
		s++;
	if (*s == '[') {
		e = strchr(++s, ']');
	} else {
		e = s + strcspn(s, ":/?");
	}
	if (!e || e == s || (size_t)(e - s) >= cap)
		return false;
	memcpy(host, s, (size_t)(e - s));
	host[e - s] = '\0';
	return true;
}

/* The servers' addresses, resolved once (blocking: only when routes are to be checked). */
static void resolve_servers(struct agent_routes *r)
{
	if (r->avoid_done)
		return;
	r->avoid_done = true;
	for (size_t i = 0; r->servers[i]; i++) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
		char host[256];

		if (!server_host(r->servers[i], host, sizeof(host)) ||
		    getaddrinfo(host, NULL, &hints, &res) != 0)
			continue;
		for (struct addrinfo *ai = res; ai && r->n_avoid < AVOID_MAX; ai = ai->ai_next) {
			struct rg_prefix *p = &r->avoid[r->n_avoid];

			memset(p, 0, sizeof(*p));
			p->family = ai->ai_family;
			if (ai->ai_family == AF_INET) {
				memcpy(p->addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
				p->len = 32;
			} else if (ai->ai_family == AF_INET6) {
				memcpy(p->addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
				p->len = 128;
			} else {
				continue;
			}
			r->n_avoid++;
		}
		freeaddrinfo(res);
	}
}

/* Does route overlap a network of this host (any link but our TUN, loopback included)? */
static bool covers_local_network(const struct agent_routes *r, const struct rg_prefix *route)
{
	struct ifaddrs *ifs = NULL;
	bool hit = false;

	if (getifaddrs(&ifs) < 0)
		return false;
	for (struct ifaddrs *i = ifs; i && !hit; i = i->ifa_next) {
		struct rg_prefix net = { 0 };
		const uint8_t *m;
		unsigned bits = 0;

		if (!i->ifa_addr || !i->ifa_netmask || !strcmp(i->ifa_name, r->a->ifname))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memcpy(net.addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			m = (const uint8_t *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
			for (int b = 0; b < 32; b++)
				bits += (m[b / 8] >> (7 - b % 8)) & 1;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			memcpy(net.addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			m = (const uint8_t *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
			for (int b = 0; b < 128; b++)
				bits += (m[b / 8] >> (7 - b % 8)) & 1;
		} else {
			continue;
		}
		net.family = i->ifa_addr->sa_family;
		net.len = (uint8_t)bits;
		rg_prefix_mask(&net);
		hit = rg_prefix_overlap(&net, route);
	}
	freeifaddrs(ifs);
	return hit;
}

/* In a signed network only a peer whose key and address come from a certificate may route
 * anything, and only inside the routes that certificate binds: a /0 (an exit offer) only when
 * the certificate binds that /0 itself. Without a trust anchor anything passes here. */
static bool cert_binds(struct agent_routes *r, const char *peer_id, const struct rg_prefix *route,
		       const char **why)
{
	struct agent_peer *p = peer_id ? agent_peer_get(r->a, peer_id, false) : NULL;
	bool bound = false;

	if (!r->a->trust)
		return true;
	if (!p || !p->verified) {
		*why = "the peer is not verified by a network certificate";
		return false;
	}
	for (size_t i = 0; i < p->n_cert_routes && !bound; i++)
		bound = rg_prefix_contains(&p->cert_routes[i], route);
	if (!bound)
		*why = route->len ? "not in the routes of the peer's certificate" :
		       "exit offer (default route) not in the routes of the peer's certificate";
	return bound;
}

bool agent_route_may_advertise(struct agent_routes *r, const char *peer_id,
			       const struct rg_prefix *route, const char **why)
{
	enum conf_route_verdict v = conf_route_check(route, r->tun.family);
	struct rg_prefix tun = r->tun;

	if (v != CONF_ROUTE_OK) {
		*why = conf_route_verdict_str(v);
		return false;
	}
	if (!cert_binds(r, peer_id, route, why))
		return false;
	rg_prefix_mask(&tun);
	if (rg_prefix_overlap(route, &tun)) {
		*why = "overlaps the tunnel subnet";
		return false;
	}
	resolve_servers(r);
	for (size_t i = 0; i < r->n_avoid; i++) {
		if (rg_prefix_contains(route, &r->avoid[i])) {
			*why = "covers the hub, a STUN or a TURN server";
			return false;
		}
	}
	if (covers_local_network(r, route)) {
		*why = "covers a network of this device (its own LAN)";
		return false;
	}
	return true;
}

/* ---- installing ---- */

static bool accepted(const struct agent_routes *r, const char *id)
{
	if (r->accept_all)
		return true;
	for (size_t i = 0; r->accept_from[i]; i++)
		if (!strcmp(r->accept_from[i], id))
			return true;
	return false;
}

static struct wg_allowed_ip allowed_ip(const struct rg_prefix *p)
{
	struct wg_allowed_ip ip = { 0 };

	ip.family = (uint16_t)p->family;
	ip.cidr = p->len;
	memcpy(ip.addr, p->addr, sizeof(ip.addr));
	return ip;
}

static void install(struct agent_routes *r, const struct installed *e, bool add)
{
	struct agent_peer *p = agent_peer_get(r->a, e->id, false);
	struct wg_allowed_ip ip = allowed_ip(&e->prefix);
	char pfx[RG_PREFIX_STR_MAX];
	int ret;

	rg_prefix_format(&e->prefix, pfx, sizeof(pfx));
	if (p && p->wg) {
		ret = add ? wg_peer_allowed_ip_add(p->wg, &ip) : wg_peer_allowed_ip_remove(p->wg, &ip);
		if (ret < 0 && add)
			rg_log(RG_LOG_WARN, "peer %s: cannot add allowed IP %s: %s", e->id, pfx,
			       g_strerror(-ret));
	}
	if (r->a->tun.fd >= 0) {
		ret = add ? net_route_add(r->a->tun.ifindex, &e->prefix) :
			    net_route_del(r->a->tun.ifindex, &e->prefix);
		if (ret < 0 && ret != -ESRCH)
			rg_log(RG_LOG_WARN, "peer %s: cannot %s route %s: %s", e->id,
			       add ? "add" : "delete", pfx, g_strerror(-ret));
	}
	rg_log(RG_LOG_INFO, "peer %s: route %s %s", e->id, pfx, add ? "installed" : "removed");
}

static bool inst_has(const GArray *v, const struct installed *e)
{
	for (guint i = 0; i < v->len; i++) {
		const struct installed *x = &g_array_index(v, struct installed, i);

		if (rg_prefix_equal(&x->prefix, &e->prefix) && !strcmp(x->id, e->id))
			return true;
	}
	return false;
}

static const char *shadowing(const GArray *v, const struct rg_prefix *p)
{
	for (guint i = 0; i < v->len; i++)
		if (rg_prefix_equal(&g_array_index(v, struct installed, i).prefix, p))
			return g_array_index(v, struct installed, i).id;
	return NULL;
}

static void log_change(const struct peer_routes *pr, struct peer_route *v, enum route_state was)
{
	if (v->seen && was == v->state)
		return;
	v->seen = true;
	if (v->state == RS_REFUSED)
		rg_log(RG_LOG_WARN, "peer %s: route '%s' refused: %s", pr->id, v->text, v->why);
	else if (v->state == RS_NOT_ACCEPTED)
		rg_log(RG_LOG_INFO, "peer %s: route %s not accepted (network.accept_routes)",
		       pr->id, v->text);
	else if (v->state == RS_EXIT)
		rg_log(RG_LOG_INFO, "peer %s: offers to be an exit node", pr->id);
	else if (v->state == RS_SHADOWED)
		rg_log(RG_LOG_INFO, "peer %s: route %s also advertised by %s, which is used "
		       "(the smaller name)", pr->id, v->text, v->by);
}

/* Installed prefixes that overlap another installed one (10.0.0.0/8 from one peer, 10.1.0.0/16
 * from another): both stay, the longer prefix wins for its addresses; status says so. */
static void note_overlaps(struct agent_routes *r, GList *ids, const GArray *want)
{
	for (GList *l = ids; l; l = l->next) {
		struct peer_routes *pr = g_hash_table_lookup(r->peers, l->data);

		for (size_t i = 0; i < pr->n; i++) {
			struct peer_route *v = &pr->v[i];

			v->overlap[0] = '\0';
			for (guint k = 0; v->state == RS_INSTALLED && k < want->len; k++) {
				const struct installed *o = &g_array_index(want, struct installed, k);
				char pfx[RG_PREFIX_STR_MAX];

				if (rg_prefix_equal(&o->prefix, &v->prefix) ||
				    !rg_prefix_overlap(&o->prefix, &v->prefix))
					continue;
				rg_prefix_format(&o->prefix, pfx, sizeof(pfx));
				snprintf(v->overlap, sizeof(v->overlap), "overlaps %s from %s: the "
					 "longer prefix wins", pfx, o->id);
				break;
			}
		}
	}
}

/* Recomputes every verdict (peers in name order: the smallest name wins a prefix) and applies
 * the difference to the kernel and the WireGuard device. */
static void apply(struct agent_routes *r)
{
	GList *ids = g_list_sort(g_hash_table_get_keys(r->peers), (GCompareFunc)strcmp);
	GArray *want = g_array_new(FALSE, TRUE, sizeof(struct installed));

	for (GList *l = ids; l; l = l->next) {
		struct peer_routes *pr = g_hash_table_lookup(r->peers, l->data);

		for (size_t i = 0; i < pr->n; i++) {
			struct peer_route *v = &pr->v[i];
			enum route_state was = v->state;
			struct installed e = { .prefix = v->prefix };
			const char *by;

			v->by[0] = '\0';
			if (v->prefix.family == r->tun.family && v->prefix.len == 0) {
				/* used by agent/exit.c when selected */
				v->state = cert_binds(r, pr->id, &v->prefix, &v->why) ? RS_EXIT :
					   RS_REFUSED;
			} else if (!agent_route_may_advertise(r, pr->id, &v->prefix, &v->why)) {
				v->state = RS_REFUSED;
			} else if (!accepted(r, pr->id)) {
				v->state = RS_NOT_ACCEPTED;
			} else if ((by = shadowing(want, &v->prefix))) {
				v->state = RS_SHADOWED;
				g_strlcpy(v->by, by, sizeof(v->by));
			} else {
				v->state = RS_INSTALLED;
				g_strlcpy(e.id, pr->id, sizeof(e.id));
				g_array_append_val(want, e);
			}
			log_change(pr, v, was);
		}
	}
	note_overlaps(r, ids, want);
	g_list_free(ids);
	for (guint i = 0; i < r->inst->len; i++)
		if (!inst_has(want, &g_array_index(r->inst, struct installed, i)))
			install(r, &g_array_index(r->inst, struct installed, i), false);
	for (guint i = 0; i < want->len; i++)
		if (!inst_has(r->inst, &g_array_index(want, struct installed, i)))
			install(r, &g_array_index(want, struct installed, i), true);
	g_array_free(r->inst, TRUE);
	r->inst = want;
}

void agent_routes_learn(struct agent_routes *r, const char *peer_id, char *const *routes)
{
	struct peer_routes *pr, old;
	size_t n = 0;

	if (!r || !routes)
		return;
	pr = g_hash_table_lookup(r->peers, peer_id);
	if (!pr) {
		pr = g_new0(struct peer_routes, 1);
		g_strlcpy(pr->id, peer_id, sizeof(pr->id));
		g_hash_table_insert(r->peers, pr->id, pr);
	}
	old = *pr;
	memset(pr->v, 0, sizeof(pr->v));
	pr->dropped = 0;
	for (size_t i = 0; routes[i]; i++) {
		struct peer_route *v;

		if (n == CONF_ROUTES_MAX) {
			pr->dropped++;
			continue;
		}
		v = &pr->v[n++];
		for (size_t k = 0; routes[i][k] && k < sizeof(v->text) - 1; k++)
			v->text[k] = routes[i][k] > 0x20 && routes[i][k] < 0x7f ? routes[i][k] : '?';
		if (!rg_prefix_parse(&v->prefix, routes[i]))
			memset(&v->prefix, 0, sizeof(v->prefix));
		/* keep the logged state of a route that was there before */
		for (size_t k = 0; k < old.n; k++) {
			if (!strcmp(old.v[k].text, v->text)) {
				v->state = old.v[k].state;
				v->seen = old.v[k].seen;
			}
		}
	}
	if (pr->dropped && !old.dropped)
		rg_log(RG_LOG_WARN, "peer %s: advertises more than %d routes; the rest are ignored",
		       peer_id, CONF_ROUTES_MAX);
	pr->n = n;
	apply(r);
}

bool agent_routes_offers_exit(const struct agent_routes *r, const char *peer_id)
{
	const struct peer_routes *pr = r ? g_hash_table_lookup(r->peers, peer_id) : NULL;

	for (size_t i = 0; pr && i < pr->n; i++)
		if (pr->v[i].state == RS_EXIT)
			return true;
	return false;
}

void agent_routes_peer_changed(struct agent_routes *r, struct agent_peer *p)
{
	if (!r || !p->wg)
		return;
	for (guint i = 0; i < r->inst->len; i++) {
		struct installed *e = &g_array_index(r->inst, struct installed, i);
		struct wg_allowed_ip ip = allowed_ip(&e->prefix);

		if (!strcmp(e->id, p->id))
			(void)wg_peer_allowed_ip_add(p->wg, &ip);
	}
}

void agent_routes_forget(struct agent_routes *r, const char *peer_id)
{
	if (!r || !g_hash_table_remove(r->peers, peer_id))
		return;
	apply(r);
}

/* ---- status ---- */

void agent_routes_status(const struct agent_routes *r, struct agent_status *s)
{
	if (!r)
		return;
	s->n_routes = r->n_own;
	for (size_t i = 0; i < r->n_own; i++)
		rg_prefix_format(&r->own[i], s->routes[i], sizeof(s->routes[i]));
	s->masquerade = (r->n_own || r->exit_offer) && r->masquerade;
	s->exit_offer = r->exit_offer;
	if (r->accept_all)
		g_strlcpy(s->accept_routes, "all", sizeof(s->accept_routes));
	else if (!r->accept_from[0])
		g_strlcpy(s->accept_routes, "none", sizeof(s->accept_routes));
	else {
		g_autofree char *list = g_strjoinv(",", r->accept_from);

		g_strlcpy(s->accept_routes, list, sizeof(s->accept_routes));
	}
}

void agent_routes_status_peer(const struct agent_routes *r, const char *peer_id,
			      struct agent_status_peer *sp)
{
	const struct peer_routes *pr = r ? g_hash_table_lookup(r->peers, peer_id) : NULL;

	sp->n_routes = 0;
	if (!pr)
		return;
	for (size_t i = 0; i < pr->n && i < AGENT_STATUS_ROUTES_MAX; i++) {
		struct agent_status_route *o = &sp->routes[sp->n_routes++];
		const struct peer_route *v = &pr->v[i];

		g_strlcpy(o->prefix, v->text, sizeof(o->prefix));
		g_strlcpy(o->state, state_names[v->state], sizeof(o->state));
		if (v->state == RS_REFUSED)
			g_strlcpy(o->note, v->why, sizeof(o->note));
		else if (v->state == RS_SHADOWED)
			snprintf(o->note, sizeof(o->note), "%s's is used", v->by);
		else
			g_strlcpy(o->note, v->overlap, sizeof(o->note));
	}
}
