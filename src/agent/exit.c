/* See exit.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/agent-int.h"
#include "agent/exit.h"
#include "agent/routes.h"
#include "conf/config.h"
#include "util/log.h"

enum {
	EXIT_CHECK_MS = 500,		/* how often the exit peer's state is looked at */
	EXIT_MARK_BASE = 0x52670000,	/* "Rg" << 16; + ifindex: mark and table number */
};

struct agent_exit {
	struct agent *a;
	char want[AGENT_ID_MAX + 1];	/* selected exit, "" = none */
	bool kill_switch;
	bool rules_on;			/* table route + both rules installed */
	bool other_on;			/* ... and the other family's blackhole (kill switch) */
	char allowed_on[AGENT_ID_MAX + 1];	/* peer holding the /0 allowed IP, "" = none */
	const char *state;		/* none, waiting, active, blocked */
	guint timer;
};

uint32_t agent_exit_mark(int ifindex)
{
	return EXIT_MARK_BASE + ((uint32_t)ifindex & 0xffff);
}

static struct rg_prefix default_route(int family)
{
	struct rg_prefix p = { .family = family };

	return p;
}

static int family_of(const struct agent *a)
{
	struct rg_prefix p;

	return a->address[0] && rg_prefix_parse_addr(&p, a->address) ? p.family : AF_INET;
}

/* The three pieces for one family, added in this order and deleted in the reverse one. The
 * tunnel's family gets a default route to the TUN; with the kill switch the other family, which
 * the tunnel cannot carry, gets a blackhole, so it does not leave directly either. */
static int family_rules(struct agent_exit *x, int family, bool add)
{
	struct agent *a = x->a;
	bool tunnel = family == family_of(a);
	int r1 = 0, r2 = 0, r3 = 0;
	uint32_t m = agent_exit_mark(a->tun.ifindex);
	struct rg_prefix all = default_route(family);
	struct net_rule to_tunnel = {
		.family = family, .table = m, .not_fwmark = m, .suppress_prefixlen = -1,
	};
	struct net_rule main_specific = {
		.family = family, .table = 254 /* main */, .suppress_prefixlen = 0,
	};

	if (add) {
		r1 = tunnel ? net_route_table(true, a->tun.ifindex, &all, m) :
			      net_route_blackhole(true, family, m);
		if (r1 < 0 || (r2 = net_rule(true, &to_tunnel)) < 0 ||
		    (r3 = net_rule(true, &main_specific)) < 0) {
			family_rules(x, family, false);
			return r1 < 0 ? r1 : r2 < 0 ? r2 : r3;
		}
		return 0;
	}
	(void)net_rule(false, &main_specific);
	(void)net_rule(false, &to_tunnel);
	if (tunnel)
		(void)net_route_table(false, a->tun.ifindex, &all, m);
	else
		(void)net_route_blackhole(false, family, m);
	return 0;
}

static int rules(struct agent_exit *x, bool add)
{
	int family = family_of(x->a), other = family == AF_INET ? AF_INET6 : AF_INET, r;

	if (!add) {
		if (x->other_on)
			family_rules(x, other, false);
		x->other_on = false;
		return family_rules(x, family, false);
	}
	if ((r = family_rules(x, family, true)) < 0)
		return r;
	/* Best effort: a host without the other family (IPv6 disabled) has nothing to leak. */
	x->other_on = x->kill_switch && family_rules(x, other, true) == 0;
	return 0;
}

static void allowed(struct agent_exit *x, const char *id, bool add)
{
	struct agent_peer *p = id[0] ? agent_peer_get(x->a, id, false) : NULL;
	struct wg_allowed_ip ip = { .family = (uint16_t)family_of(x->a), .cidr = 0 };

	if (p && p->wg) {
		if (add)
			(void)wg_peer_allowed_ip_add(p->wg, &ip);
		else
			(void)wg_peer_allowed_ip_remove(p->wg, &ip);
	}
}

void agent_exit_update(struct agent_exit *x)
{
	struct agent_peer *p = x->want[0] ? agent_peer_get(x->a, x->want, false) : NULL;
	bool offers = x->want[0] && agent_routes_offers_exit(x->a->routes, x->want);
	bool up = offers && p && p->wg && p->state == AGENT_PEER_UP;
	bool want_rules = x->want[0] && (up || x->kill_switch);
	const char *state;
	int r;

	/* The /0 allowed IP follows the selection (added again after a key or address change
	 * reset the peer's allowed IPs). */
	if (x->allowed_on[0] && strcmp(x->allowed_on, x->want) != 0) {
		allowed(x, x->allowed_on, false);
		x->allowed_on[0] = '\0';
	}
	if (offers && p && p->wg) {
		allowed(x, x->want, true);
		g_strlcpy(x->allowed_on, x->want, sizeof(x->allowed_on));
	}
	if (want_rules != x->rules_on) {
		r = rules(x, want_rules);
		if (r < 0)
			rg_log(RG_LOG_WARN, "%s: cannot route through exit node %s: %s", x->a->ifname,
			       x->want, g_strerror(-r));
		else
			x->rules_on = want_rules;
	}
	state = !x->want[0] ? "none" : up ? "active" : x->kill_switch ? "blocked" : "waiting";
	if (x->state != state) {
		if (x->want[0])
			rg_log(RG_LOG_INFO, "%s: exit node %s %s", x->a->ifname, x->want,
			       up ? "in use: all traffic goes through it" :
			       x->kill_switch ? "not available: traffic is blocked (kill switch)" :
			       !offers ? "does not offer to be an exit (yet): direct routing" :
			       "is down: direct routing until it is back");
		x->state = state;
	}
}

static gboolean tick(gpointer data)
{
	agent_exit_update(data);
	return G_SOURCE_CONTINUE;
}

int agent_exit_select(struct agent_exit *x, const char *name, struct rg_err *err)
{
	if (name && (!*name || !strcmp(name, "none")))
		name = NULL;
	if (name && !conf_valid_name(name))
		return rg_err_set(err, -EINVAL, "exit node must be a peer name (1-%d characters of "
				  "A-Z a-z 0-9 . _ -) or none, got '%.64s'", CONF_NAME_MAX, name);
	if (name && !strcmp(name, x->a->peer_id))
		return rg_err_set(err, -EINVAL, "this device cannot be its own exit node");
	g_strlcpy(x->want, name ? name : "", sizeof(x->want));
	if (!name)
		rg_log(RG_LOG_INFO, "%s: no exit node", x->a->ifname);
	agent_exit_update(x);
	return 0;
}

int agent_exit_new(struct agent_exit **out, struct agent *a, const char *name, bool kill_switch)
{
	struct agent_exit *x = g_new0(struct agent_exit, 1);
	struct rg_err err = { 0 };
	GSource *s;

	x->a = a;
	x->kill_switch = kill_switch;
	x->state = "none";
	*out = x;
	s = g_timeout_source_new(EXIT_CHECK_MS);
	g_source_set_callback(s, tick, x, NULL);
	x->timer = g_source_attach(s, a->ctx);
	g_source_unref(s);
	if (name && agent_exit_select(x, name, &err) < 0)
		rg_log(RG_LOG_WARN, "%s: %s", a->ifname, err.msg);
	return 0;
}

void agent_exit_free(struct agent_exit *x)
{
	if (!x)
		return;
	if (x->timer)
		g_source_remove(x->timer);
	if (x->rules_on)
		rules(x, false);
	if (x->allowed_on[0])
		allowed(x, x->allowed_on, false);
	g_free(x);
}

void agent_exit_status(const struct agent_exit *x, struct agent_status *s)
{
	if (!x)
		return;
	g_strlcpy(s->exit_node, x->want, sizeof(s->exit_node));
	g_strlcpy(s->exit_state, x->state, sizeof(s->exit_state));
	s->kill_switch = x->kill_switch;
}
