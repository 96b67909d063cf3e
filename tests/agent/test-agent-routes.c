/* agent/routes: verdicts on routes peers advertise (hostile input), opt-in, the smallest name
 * winning a prefix advertised twice, retraction, the per-peer cap, and status. The agent here
 * has no TUN and no WireGuard peers, so only the bookkeeping runs (e2e-routes installs). */
#include <glib.h>
#include <string.h>

#include "agent/agent-int.h"
#include "agent/routes.h"
#include "conf/routes.h"

struct fixture {
	struct agent a;
	struct agent_routes *r;
};

static void setup(struct fixture *f, const char *const *accept_from, bool accept_all)
{
	static const char *const servers[] = { "stun:198.51.100.1:3478", "turns:[2001:db8::7]:5349" };
	struct agent_routes_cfg cfg = {
		.accept_all = accept_all, .accept_from = accept_from,
		.n_accept_from = accept_from ? g_strv_length((char **)accept_from) : 0,
		.hub_url = "ws://203.0.113.7:8080/connect", .servers = servers, .n_servers = 2,
	};

	memset(&f->a, 0, sizeof(f->a));
	g_strlcpy(f->a.ifname, "rgtest0", sizeof(f->a.ifname));
	g_strlcpy(f->a.address, "10.98.100.2/24", sizeof(f->a.address));
	f->a.tun.fd = -1;
	f->a.peers = g_hash_table_new(g_str_hash, g_str_equal);
	g_assert_cmpint(agent_routes_new(&f->r, &f->a, &cfg), ==, 0);
}

static void teardown(struct fixture *f)
{
	agent_routes_free(f->r);
	g_hash_table_destroy(f->a.peers);
}

static struct agent_status_peer status(struct fixture *f, const char *id)
{
	struct agent_status_peer sp;

	memset(&sp, 0, sizeof(sp));
	agent_routes_status_peer(f->r, id, &sp);
	return sp;
}

static void assert_route(const struct agent_status_peer *sp, size_t i, const char *prefix,
			 const char *state, const char *note)
{
	g_assert_cmpuint(i, <, sp->n_routes);
	g_assert_cmpstr(sp->routes[i].prefix, ==, prefix);
	g_assert_cmpstr(sp->routes[i].state, ==, state);
	if (note)
		g_assert_nonnull(strstr(sp->routes[i].note, note));
}

/* Every refusal, in the order the check applies them. */
static void test_refused(void)
{
	static const char *const accept[] = { "home", NULL };
	static const struct { const char *route, *note; } rows[] = {
		/* 1 */ { "192.168.7.0/24", NULL },		/* accepted */
		/* 2 */ { "lan", "is not an IPv4 or IPv6 prefix" },
		/* 3 */ { "192.168.7.5/24", "host bits" },
		/* 4 */ { "fd12::/64", "family" },
		/* 5 */ { "0.0.0.0/0", NULL },			/* an exit offer */
		/* 6 */ { "10.98.100.0/25", "tunnel subnet" },
		/* 7 */ { "10.0.0.0/8", "tunnel subnet" },		/* covers it */
		/* 8 */ { "203.0.113.0/24", "covers the hub" },
		/* 9 */ { "198.51.100.0/30", "STUN" },
		/* 10 */ { "127.0.0.0/8", "own LAN" },			/* loopback is ours */
		/* 11 */ { "1.2.3.4/32\x01", "is not an IPv4 or IPv6 prefix" },
		/* 12 */ { "::/0", "family" },		/* an exit of the other family */
	};
	char *routes[G_N_ELEMENTS(rows) + 1] = { 0 };
	struct fixture f;
	struct agent_status_peer sp;

	setup(&f, accept, false);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		routes[i] = (char *)rows[i].route;
	agent_routes_learn(f.r, "home", routes);
	sp = status(&f, "home");
	g_assert_cmpuint(sp.n_routes, ==, G_N_ELEMENTS(rows));
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_test_message("row %zu: %s", i + 1, rows[i].route);
		if (i == 10)
			assert_route(&sp, i, "1.2.3.4/32?", "refused", rows[i].note);	/* shown safe */
		else if (i == 4)
			assert_route(&sp, i, rows[i].route, "exit-offer", NULL);
		else
			assert_route(&sp, i, rows[i].route, rows[i].note ? "refused" : "installed",
				     rows[i].note);
	}
	g_assert_true(agent_routes_offers_exit(f.r, "home"));
	g_assert_false(agent_routes_offers_exit(f.r, "other"));
	teardown(&f);
}

/* Only the peers named in accept_routes get their routes installed. */
static void test_opt_in(void)
{
	static const char *const accept[] = { "home", NULL };
	char *routes[] = { "192.168.7.0/24", NULL };
	struct fixture f;
	struct agent_status_peer sp;

	setup(&f, NULL, false);
	agent_routes_learn(f.r, "home", routes);
	sp = status(&f, "home");
	assert_route(&sp, 0, "192.168.7.0/24", "not-accepted", NULL);
	teardown(&f);

	setup(&f, accept, false);
	agent_routes_learn(f.r, "office", routes);
	agent_routes_learn(f.r, "home", routes);
	sp = status(&f, "office");
	assert_route(&sp, 0, "192.168.7.0/24", "not-accepted", NULL);
	sp = status(&f, "home");
	assert_route(&sp, 0, "192.168.7.0/24", "installed", NULL);
	/* absent (NULL) changes nothing; status of an unknown peer is empty */
	agent_routes_learn(f.r, "home", NULL);
	g_assert_cmpuint(status(&f, "home").n_routes, ==, 1);
	g_assert_cmpuint(status(&f, "nobody").n_routes, ==, 0);
	teardown(&f);
}

/* The same prefix twice: the smaller name wins whatever the order; overlapping but different
 * prefixes both stay (the longer one wins in routing); a retraction hands the prefix over. */
static void test_shadowed(void)
{
	char *lan[] = { "192.168.7.0/24", NULL }, *part[] = { "192.168.7.128/25", NULL };
	char *none[] = { NULL };
	struct fixture f;
	struct agent_status_peer sp;

	setup(&f, NULL, true);
	agent_routes_learn(f.r, "peer3", lan);
	agent_routes_learn(f.r, "peer1", lan);
	agent_routes_learn(f.r, "peer2", part);
	sp = status(&f, "peer3");
	assert_route(&sp, 0, "192.168.7.0/24", "shadowed", "peer1's is used");
	sp = status(&f, "peer1");
	assert_route(&sp, 0, "192.168.7.0/24", "installed", NULL);
	sp = status(&f, "peer2");
	assert_route(&sp, 0, "192.168.7.128/25", "installed",
		     "overlaps 192.168.7.0/24 from peer1: the longer prefix wins");
	sp = status(&f, "peer1");
	assert_route(&sp, 0, "192.168.7.0/24", "installed", "overlaps 192.168.7.128/25 from peer2");
	agent_routes_learn(f.r, "peer1", none);			/* no routes any more */
	g_assert_cmpuint(status(&f, "peer1").n_routes, ==, 0);
	sp = status(&f, "peer3");
	assert_route(&sp, 0, "192.168.7.0/24", "installed", NULL);
	agent_routes_forget(f.r, "peer3");
	g_assert_cmpuint(status(&f, "peer3").n_routes, ==, 0);
	teardown(&f);
}

/* In a signed network only a verified peer's routes pass the check. */
static void test_signed(void)
{
	char *routes[] = { "192.168.7.0/24", NULL };
	struct agent_peer p = { 0 };
	struct fixture f;
	struct agent_status_peer sp;

	setup(&f, NULL, true);
	f.a.trust = (struct trust_store *)&f;	/* signed; never dereferenced here */
	agent_routes_learn(f.r, "home", routes);
	sp = status(&f, "home");
	assert_route(&sp, 0, "192.168.7.0/24", "refused", "not verified");
	g_strlcpy(p.id, "home", sizeof(p.id));
	p.a = &f.a;
	g_hash_table_insert(f.a.peers, p.id, &p);
	agent_routes_learn(f.r, "home", routes);		/* known, not verified: refused */
	sp = status(&f, "home");
	assert_route(&sp, 0, "192.168.7.0/24", "refused", "not verified");
	p.verified = true;
	agent_routes_learn(f.r, "home", routes);		/* verified, no routes in its cert */
	sp = status(&f, "home");
	assert_route(&sp, 0, "192.168.7.0/24", "refused", "not in the routes of the peer's certificate");
	/* the certificate binds 192.168.0.0/17: the /24 inside it passes, 192.168.128.0/24 not */
	g_assert_true(rg_prefix_parse(&p.cert_routes[0], "192.168.0.0/17"));
	p.n_cert_routes = 1;
	agent_routes_learn(f.r, "home", routes);
	sp = status(&f, "home");
	assert_route(&sp, 0, "192.168.7.0/24", "installed", NULL);
	{
		char *outside[] = { "192.168.7.0/24", "192.168.128.0/24", "192.168.0.0/16", NULL };

		agent_routes_learn(f.r, "home", outside);
		sp = status(&f, "home");
		assert_route(&sp, 0, "192.168.7.0/24", "installed", NULL);
		assert_route(&sp, 1, "192.168.128.0/24", "refused", "not in the routes");
		assert_route(&sp, 2, "192.168.0.0/16", "refused", "not in the routes");
	}
	/* An exit offer (0.0.0.0/0) is a route like the others: refused unless the certificate
	 * binds the default route itself (192.168.0.0/17 does not cover it). */
	{
		char *exit_offer[] = { "0.0.0.0/0", NULL };

		agent_routes_learn(f.r, "home", exit_offer);
		sp = status(&f, "home");
		assert_route(&sp, 0, "0.0.0.0/0", "refused", "not in the routes of the peer's cert");
		g_assert_false(agent_routes_offers_exit(f.r, "home"));
		p.verified = false;
		g_assert_true(rg_prefix_parse(&p.cert_routes[1], "0.0.0.0/0"));
		p.n_cert_routes = 2;
		agent_routes_learn(f.r, "home", exit_offer);
		sp = status(&f, "home");
		assert_route(&sp, 0, "0.0.0.0/0", "refused", "not verified");
		g_assert_false(agent_routes_offers_exit(f.r, "home"));
		p.verified = true;
		agent_routes_learn(f.r, "home", exit_offer);
		sp = status(&f, "home");
		assert_route(&sp, 0, "0.0.0.0/0", "exit-offer", NULL);
		g_assert_true(agent_routes_offers_exit(f.r, "home"));
		/* ::/0 bound does not bind 0.0.0.0/0 */
		g_assert_true(rg_prefix_parse(&p.cert_routes[1], "::/0"));
		agent_routes_learn(f.r, "home", exit_offer);
		sp = status(&f, "home");
		assert_route(&sp, 0, "0.0.0.0/0", "refused", "exit offer");
		g_assert_false(agent_routes_offers_exit(f.r, "home"));
	}
	agent_routes_forget(f.r, "home");
	g_hash_table_remove(f.a.peers, p.id);
	teardown(&f);
}

/* A peer advertising more than CONF_ROUTES_MAX: the first CONF_ROUTES_MAX are considered. */
static void test_cap(void)
{
	char *routes[CONF_ROUTES_MAX + 3] = { 0 };
	struct fixture f;

	setup(&f, NULL, true);
	for (int i = 0; i < CONF_ROUTES_MAX + 2; i++)
		routes[i] = g_strdup_printf("172.16.%d.0/24", i);
	agent_routes_learn(f.r, "home", routes);
	g_assert_cmpuint(status(&f, "home").n_routes, ==, CONF_ROUTES_MAX);
	for (int i = 0; routes[i]; i++)
		g_free(routes[i]);
	teardown(&f);
}

/* What we advertise, in the signaling field and in status. */
static void test_advertised(void)
{
	struct rg_prefix own[2];
	struct agent a = { 0 };
	struct agent_routes_cfg cfg = { .routes = own, .n_routes = 2, .masquerade = true };
	struct agent_routes *r;
	struct agent_status s = { 0 };
	char **v;

	g_assert_true(rg_prefix_parse(&own[0], "192.168.7.0/24"));
	g_assert_true(rg_prefix_parse(&own[1], "192.168.8.0/24"));
	g_strlcpy(a.address, "10.98.100.2/24", sizeof(a.address));
	a.tun.fd = -1;
	agent_routes_new(&r, &a, &cfg);
	v = agent_routes_advertised(r);
	g_assert_cmpuint(g_strv_length(v), ==, 2);
	g_assert_cmpstr(v[1], ==, "192.168.8.0/24");
	g_strfreev(v);
	agent_routes_status(r, &s);
	g_assert_cmpuint(s.n_routes, ==, 2);
	g_assert_true(s.masquerade);
	g_assert_cmpstr(s.accept_routes, ==, "none");
	agent_routes_free(r);		/* never started: touches no table, no sysctl */
	cfg.n_routes = 0;
	agent_routes_new(&r, &a, &cfg);
	g_assert_null(agent_routes_advertised(r));
	agent_routes_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/routes/refused", test_refused);
	g_test_add_func("/agent/routes/opt-in", test_opt_in);
	g_test_add_func("/agent/routes/shadowed", test_shadowed);
	g_test_add_func("/agent/routes/cap", test_cap);
	g_test_add_func("/agent/routes/signed", test_signed);
	g_test_add_func("/agent/routes/advertised", test_advertised);
	return g_test_run();
}
