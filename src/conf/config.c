/* Config model over the TOML tree: one table of known keys per section, every value checked,
 * unknown keys refused with their position. Reading builds a local struct and commits it only
 * when everything passed. Secrets (private key, auth token, TURN secret and credentials) are
 * wiped on every path and never quoted in an error. Saving is atomic (temp file, fsync, rename). */
#include "conf/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf/toml.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/iceurl.h"
#include "util/log.h"

static const char *const default_stun[] = {
	"stun:stun.cloudflare.com:3478",
	"stun:stun.l.google.com:19302",
};

static void free_secret(char *s)
{
	if (s) {
		rg_memzero(s, strlen(s));
		free(s);
	}
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void conf_clear(struct conf *c)
{
	if (!c)
		return;
	free(c->network_name);
	free(c->server_url);
	free_secret(c->auth_token);
	free_secret(c->turn_secret);
	free(c->device_name);
	free(c->address);
	free_list(c->accept_routes_from, c->n_accept_routes_from);
	free(c->exit_node);
	free(c->dns_domain);
	free_list(c->dns_servers, c->n_dns_servers);
	free_list(c->dns_search, c->n_dns_search);
	free_list(c->stun_servers, c->n_stun);
	free(c->metrics_listen);
	for (size_t i = 0; i < c->n_turn; i++) {
		free(c->turn[i].url);
		free(c->turn[i].username);
		free_secret(c->turn[i].credential);
		free(c->turn[i].ca_file);
	}
	free(c->turn);
	free_list(c->exclude_interfaces, c->n_exclude_interfaces);
	rg_memzero(c, sizeof(*c));
}

int conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->interface, CONF_DEFAULT_INTERFACE);
	c->masquerade = true;
	c->direct_path = true;
	c->max_peers = CONF_MAX_PEERS_DEFAULT;
	c->stun_servers = calloc(sizeof(default_stun) / sizeof(default_stun[0]), sizeof(char *));
	if (!c->stun_servers)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(default_stun) / sizeof(default_stun[0]); i++) {
		c->stun_servers[i] = strdup(default_stun[i]);
		if (!c->stun_servers[i]) {
			conf_clear(c);
			return -ENOMEM;
		}
		c->n_stun++;
	}
	return 0;
}

/* ---- field checks ---- */

static bool name_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

bool conf_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

bool conf_valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > CONF_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

static bool printable_nospace(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

bool conf_valid_auth_token(const char *s)
{
	return *s && printable_nospace(s);
}

/* host[:port] where host is a DNS name, IPv4 or [IPv6]; exactly n bytes. */
static bool valid_hostport(const char *s, size_t n)
{
	char host[RG_ICE_URL_HOST_MAX + 1];
	uint16_t port;
	bool has_port;

	return rg_hostport_parse(s, n, host, &port, &has_port);
}

bool conf_valid_server_url(const char *s)
{
	size_t skip, hl;

	if (strncmp(s, "wss://", 6) == 0)
		skip = 6;
	else if (strncmp(s, "ws://", 5) == 0)
		skip = 5;
	else
		return false;
	if (!printable_nospace(s) || strlen(s) > CONF_STRING_MAX)
		return false;
	s += skip;
	hl = strcspn(s, "/?#");
	return valid_hostport(s, hl);
}

bool conf_server_url_insecure(const char *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char buf[16];
	size_t hl;

	if (!conf_valid_server_url(s) || strncmp(s, "ws://", 5) != 0)
		return false;
	s += 5;
	hl = strcspn(s, "/?#");
	if (s[0] == '[') {
		const char *close = memchr(s, ']', hl);

		hl = close ? (size_t)(close - s - 1) : 0;
		s++;
	} else {
		hl = strcspn(s, ":/?#");
	}
	if (hl == 0 || hl >= sizeof(host))
		return true;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return false;
	if (inet_pton(AF_INET, host, buf) == 1)
		return buf[0] != 127;
	if (inet_pton(AF_INET6, host, buf) == 1)
		return !IN6_IS_ADDR_LOOPBACK((struct in6_addr *)(void *)buf);
	return true;
}

bool conf_valid_stun_url(const char *s)
{
	return rg_ice_url_is_stun(s);
}

bool conf_valid_ca_file(const char *s)
{
	if (!s || s[0] != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int conf_check_ca_file(const char *path, struct rg_err *err)
{
	FILE *f = fopen(path, "re");
	X509 *x = NULL;
	bool damaged;
	int n = 0;

	if (!f)
		return rg_err_set(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	ERR_clear_error();
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	/* The loop ends at the end of the file (no further start line) or on a damaged block. */
	damaged = ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE;
	ERR_clear_error();
	fclose(f);
	if (damaged)
		return rg_err_set(err, -EINVAL, "%s: PEM certificate %d cannot be read", path,
				  n + 1);
	if (n == 0)
		return rg_err_set(err, -EINVAL, "%s: no PEM certificate in it", path);
	return n;
}

bool conf_valid_turn_url(const char *s)
{
	return rg_ice_url_is_turn(s);
}

/* ---- reading the tree ---- */

struct reader {
	const char *name;
	struct rg_err *err;
};

static int at(struct reader *r, const struct conf_toml_value *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int at(struct reader *r, const struct conf_toml_value *v, const char *fmt, ...)
{
	char msg[RG_ERR_MSG_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v)
		return rg_err_set(r->err, -EINVAL, "%s:%u:%u: %s", r->name, v->line, v->col, msg);
	return rg_err_set(r->err, -EINVAL, "%s: %s", r->name, msg);
}

/* Keys we know per table; anything else is an error naming it. */
static int check_keys(struct reader *r, const struct conf_toml_value *t, const char *where,
		      const char *const *known)
{
	for (size_t i = 0; i < t->table.n; i++) {
		const struct conf_toml_kv *kv = &t->table.items[i];
		bool ok = false;

		for (size_t k = 0; known[k]; k++)
			if (strlen(known[k]) == kv->keylen && strcmp(known[k], kv->key) == 0)
				ok = true;
		if (!ok) {
			char shown[48];
			size_t n = 0;

			for (size_t j = 0; j < kv->keylen && n < sizeof(shown) - 1; j++)
				shown[n++] = (kv->key[j] > 0x20 && kv->key[j] < 0x7f) ? kv->key[j]
										     : '?';
			shown[n] = '\0';
			return rg_err_set(r->err, -EINVAL, "%s:%u:%u: unknown key '%s' in %s", r->name,
					  kv->line, kv->col, shown, where);
		}
	}
	return 0;
}

static const struct conf_toml_value *section(struct reader *r, const struct conf_toml_value *root,
					     const char *key, bool required, int *ret)
{
	const struct conf_toml_value *t = conf_toml_get(root, key);

	*ret = 0;
	if (!t) {
		if (required)
			*ret = at(r, NULL, "missing required table [%s]", key);
		return NULL;
	}
	if (t->type != CONF_TOML_TABLE)
		*ret = at(r, t, "[%s] must be a table, got %s", key,
			  conf_toml_type_name(t->type));
	return t;
}

/* A string value: present (1), absent (0, only when !required), or an error. Never quotes the
 * value, so it serves secrets too. */
static int get_string(struct reader *r, const struct conf_toml_value *t, const char *sect,
		      const char *key, bool required, const struct conf_toml_value **vout,
		      char **out)
{
	const struct conf_toml_value *v = conf_toml_get(t, key);

	*out = NULL;
	if (vout)
		*vout = v;
	if (!v)
		return required ? at(r, t, "missing required key %s.%s", sect, key) : 0;
	if (v->type != CONF_TOML_STRING)
		return at(r, v, "%s.%s must be a string, got %s", sect, key,
			  conf_toml_type_name(v->type));
	if (v->str.len == 0)
		return at(r, v, "%s.%s must not be empty", sect, key);
	if (strlen(v->str.ptr) != v->str.len || v->str.len > CONF_STRING_MAX)
		return at(r, v, "%s.%s must be at most %d characters with no NUL", sect, key,
			  CONF_STRING_MAX);
	*out = strdup(v->str.ptr);
	if (!*out)
		return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
	return 1;
}

bool conf_valid_domain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (const char *l = s; *l;) {
		size_t len = strcspn(l, ".");

		if (len == 0 || len > 63 || l[0] == '-' || l[len - 1] == '-')
			return false;
		for (size_t i = 0; i < len; i++)
			if (!((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= 'A' && l[i] <= 'Z') ||
			      (l[i] >= '0' && l[i] <= '9')) && l[i] != '-')
				return false;
		l += len;
		if (*l == '.' && !*++l)
			return false;		/* a trailing dot */
	}
	return true;
}

/* network.accept_routes: true/false, or the names of the peers whose routes are accepted. */
static int read_accept_routes(struct reader *r, const struct conf_toml_value *t, struct conf *c)
{
	const struct conf_toml_value *v = conf_toml_get(t, "accept_routes");

	if (!v)
		return 0;
	if (v->type == CONF_TOML_BOOL) {
		c->accept_routes_all = v->b;
		return 0;
	}
	if (v->type != CONF_TOML_ARRAY)
		return at(r, v, "network.accept_routes must be true, false or an array of peer "
			  "names, got %s", conf_toml_type_name(v->type));
	if (v->array.n > CONF_LIST_MAX)
		return at(r, v, "network.accept_routes has more than %d entries", CONF_LIST_MAX);
	c->accept_routes_from = calloc(v->array.n + 1, sizeof(char *));
	if (!c->accept_routes_from)
		return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
	for (size_t i = 0; i < v->array.n; i++) {
		const struct conf_toml_value *e = v->array.items[i];

		if (e->type != CONF_TOML_STRING || strlen(e->str.ptr) != e->str.len ||
		    !conf_valid_name(e->str.ptr))
			return at(r, e, "network.accept_routes[%zu] must be a peer name (1-%d "
				  "characters of A-Z a-z 0-9 . _ -)", i, CONF_NAME_MAX);
		c->accept_routes_from[i] = strdup(e->str.ptr);
		if (!c->accept_routes_from[i])
			return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
		c->n_accept_routes_from++;
	}
	return 0;
}

/* device.routes: the LAN prefixes this device advertises, checked for its tunnel's family. */
static int read_routes(struct reader *r, const struct conf_toml_value *t, struct conf *c)
{
	const struct conf_toml_value *v = conf_toml_get(t, "routes");

	if (!v)
		return 0;
	if (v->type != CONF_TOML_ARRAY)
		return at(r, v, "device.routes must be an array of prefixes, got %s",
			  conf_toml_type_name(v->type));
	if (v->array.n > CONF_ROUTES_MAX)
		return at(r, v, "device.routes has more than %d entries", CONF_ROUTES_MAX);
	for (size_t i = 0; i < v->array.n; i++) {
		const struct conf_toml_value *e = v->array.items[i];
		enum conf_route_verdict rv = CONF_ROUTE_NOT_PREFIX;

		if (e->type == CONF_TOML_STRING && strlen(e->str.ptr) == e->str.len)
			rv = conf_route_parse(&c->routes[i], e->str.ptr, c->addr.family);
		if (rv != CONF_ROUTE_OK)
			return at(r, e, "device.routes[%zu] '%.64s' %s", i,
				  e->type == CONF_TOML_STRING ? e->str.ptr : "",
				  conf_route_verdict_str(rv));
		for (size_t j = 0; j < i; j++)
			if (rg_prefix_overlap(&c->routes[j], &c->routes[i]))
				return at(r, e, "device.routes[%zu] '%.64s' overlaps routes[%zu]", i,
					  e->str.ptr, j);
		if (rg_prefix_contains(&c->routes[i], &c->addr))
			return at(r, e, "device.routes[%zu] '%.64s' covers this device's own tunnel "
				  "address", i, e->str.ptr);
		c->n_routes++;
	}
	return 0;
}

/* [network] dns / search: arrays of at most max strings, each passing valid(). */
static int get_list(struct reader *r, const struct conf_toml_value *t, const char *key,
		    size_t max, bool (*valid)(const char *), const char *what, char ***out,
		    size_t *n_out)
{
	const struct conf_toml_value *v = conf_toml_get(t, key);

	if (!v)
		return 0;
	if (v->type != CONF_TOML_ARRAY)
		return at(r, v, "network.%s must be an array of strings, got %s", key,
			  conf_toml_type_name(v->type));
	if (v->array.n > max)
		return at(r, v, "network.%s has more than %zu entries", key, max);
	*out = calloc(v->array.n + 1, sizeof(char *));
	if (!*out)
		return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
	for (size_t i = 0; i < v->array.n; i++) {
		const struct conf_toml_value *e = v->array.items[i];

		if (e->type != CONF_TOML_STRING || strlen(e->str.ptr) != e->str.len ||
		    !valid(e->str.ptr))
			return at(r, e, "network.%s[%zu] must be %s, got '%.64s'", key, i, what,
				  e->type == CONF_TOML_STRING ? e->str.ptr : "");
		(*out)[i] = strdup(e->str.ptr);
		if (!(*out)[i])
			return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
		(*n_out)++;
	}
	return 0;
}

static bool valid_dns_server(const char *s)
{
	struct rg_prefix p;

	return !strchr(s, '/') && rg_prefix_parse_addr(&p, s);
}

static int read_network(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "name", "server_url", "auth_token", "turn_secret",
					     "accept_routes", "exit_node", "kill_switch", "domain",
					     "dns", "search", "relay", "max_peers", "allow_insecure_transport", NULL };
	char *relay = NULL;
	const struct conf_toml_value *t, *v;
	int ret;

	t = section(r, root, "network", true, &ret);
	if (ret < 0)
		return ret;
	if ((ret = check_keys(r, t, "[network]", known)) < 0)
		return ret;
	if ((ret = get_string(r, t, "network", "name", true, &v, &c->network_name)) < 0)
		return ret;
	if (!conf_valid_name(c->network_name))
		return at(r, v, "network.name must be 1-%d characters of A-Z a-z 0-9 . _ -, got "
			  "'%.64s'", CONF_NAME_MAX, c->network_name);
	if ((ret = get_string(r, t, "network", "server_url", true, &v, &c->server_url)) < 0)
		return ret;
	if (!conf_valid_server_url(c->server_url))
		return at(r, v, "network.server_url must be ws://HOST[:PORT][/PATH] or "
			  "wss://HOST[:PORT][/PATH], got '%.100s'", c->server_url);
	if ((ret = get_string(r, t, "network", "auth_token", true, &v, &c->auth_token)) < 0)
		return ret;
	if (!printable_nospace(c->auth_token))
		return at(r, v, "network.auth_token must not contain spaces or control characters");
	if ((ret = get_string(r, t, "network", "turn_secret", false, &v, &c->turn_secret)) < 0)
		return ret;
	if ((ret = get_string(r, t, "network", "exit_node", false, &v, &c->exit_node)) < 0)
		return ret;
	if (c->exit_node && !conf_valid_name(c->exit_node))
		return at(r, v, "network.exit_node must be a peer name (1-%d characters of A-Z a-z "
			  "0-9 . _ -), got '%.64s'", CONF_NAME_MAX, c->exit_node);
	if ((ret = get_string(r, t, "network", "domain", false, &v, &c->dns_domain)) < 0)
		return ret;
	if (c->dns_domain && !conf_valid_domain(c->dns_domain))
		return at(r, v, "network.domain must be DNS labels (a-z 0-9 -, dot-separated, at most "
			  "63 characters), got '%.64s'", c->dns_domain);
	if ((v = conf_toml_get(t, "kill_switch"))) {
		if (v->type != CONF_TOML_BOOL)
			return at(r, v, "network.kill_switch must be true or false, got %s",
				  conf_toml_type_name(v->type));
		c->kill_switch = v->b;
	}
	if ((ret = get_list(r, t, "dns", CONF_DNS_MAX, valid_dns_server, "an IP address",
			    &c->dns_servers, &c->n_dns_servers)) < 0)
		return ret;
	if ((ret = get_list(r, t, "search", CONF_SEARCH_MAX, conf_valid_domain,
			    "a domain (DNS labels of a-z 0-9 -)", &c->dns_search,
			    &c->n_dns_search)) < 0)
		return ret;
	if ((ret = get_string(r, t, "network", "relay", false, &v, &relay)) < 0)
		return ret;
	if (relay) {
		if (!strcmp(relay, "auto") || !strcmp(relay, "never") || !strcmp(relay, "always")) {
			c->relay = relay[0] == 'a' ? (relay[1] == 'u' ? CONF_RELAY_AUTO : CONF_RELAY_ALWAYS) :
				   CONF_RELAY_NEVER;
			free(relay);
		} else {
			ret = at(r, v, "network.relay must be \"auto\", \"never\" or \"always\", got "
				 "'%.32s'", relay);
			free(relay);
			return ret;
		}
	}
	c->max_peers = CONF_MAX_PEERS_DEFAULT;
	if ((v = conf_toml_get(t, "max_peers"))) {
		if (v->type != CONF_TOML_INTEGER)
			return at(r, v, "network.max_peers must be an integer, got %s",
				  conf_toml_type_name(v->type));
		if (v->i < 1 || v->i > CONF_MAX_PEERS_MAX)
			return at(r, v, "network.max_peers must be 1-%d, got %lld", CONF_MAX_PEERS_MAX,
				  (long long)v->i);
		c->max_peers = (unsigned)v->i;
	}
	if ((v = conf_toml_get(t, "allow_insecure_transport"))) {
		if (v->type != CONF_TOML_BOOL)
			return at(r, v, "network.allow_insecure_transport must be true or false, got %s",
				  conf_toml_type_name(v->type));
		c->allow_insecure_transport = v->b;
	}
	return read_accept_routes(r, t, c);
}

static int read_device(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "name", "private_key", "address", "interface", "mtu",
					     "routes", "masquerade", "exit_node", NULL };
	const struct conf_toml_value *t, *v;
	char *s = NULL;
	int ret;

	t = section(r, root, "device", true, &ret);
	if (ret < 0)
		return ret;
	if ((ret = check_keys(r, t, "[device]", known)) < 0)
		return ret;
	if ((ret = get_string(r, t, "device", "name", true, &v, &c->device_name)) < 0)
		return ret;
	if (!conf_valid_name(c->device_name))
		return at(r, v, "device.name must be 1-%d characters of A-Z a-z 0-9 . _ -, got "
			  "'%.64s'", CONF_NAME_MAX, c->device_name);
	if ((ret = get_string(r, t, "device", "private_key", true, &v, &s)) < 0)
		return ret;
	if (!rg_key_from_base64(c->private_key, s)) {
		free_secret(s);
		rg_memzero(c->private_key, sizeof(c->private_key));
		return at(r, v, "device.private_key must be a base64 key of 32 bytes (44 "
			  "characters, as from 'riftgate genkey')");
	}
	free_secret(s);
	if ((ret = get_string(r, t, "device", "address", true, &v, &c->address)) < 0)
		return ret;
	if (!rg_prefix_parse(&c->addr, c->address))
		return at(r, v, "device.address must be an IPv4 or IPv6 address with a prefix "
			  "length (CIDR, like 10.10.0.2/24), got '%.64s'", c->address);
	if ((ret = get_string(r, t, "device", "interface", false, &v, &s)) < 0)
		return ret;
	if (ret > 0) {
		bool ok = conf_valid_ifname(s);

		if (ok)
			strcpy(c->interface, s);
		else
			at(r, v, "device.interface must be 1-%d characters of A-Z a-z 0-9 . _ -, "
			   "got '%.32s'", CONF_IFNAME_MAX, s);
		free(s);
		if (!ok)
			return -EINVAL;
	}
	v = conf_toml_get(t, "mtu");
	if (v) {
		if (v->type != CONF_TOML_INTEGER)
			return at(r, v, "device.mtu must be an integer, got %s",
				  conf_toml_type_name(v->type));
		if (v->i < CONF_MTU_MIN || v->i > CONF_MTU_MAX)
			return at(r, v, "device.mtu must be %d-%d, got %lld", CONF_MTU_MIN,
				  CONF_MTU_MAX, (long long)v->i);
		c->mtu = (unsigned)v->i;
	}
	c->masquerade = true;
	if ((v = conf_toml_get(t, "masquerade"))) {
		if (v->type != CONF_TOML_BOOL)
			return at(r, v, "device.masquerade must be true or false, got %s",
				  conf_toml_type_name(v->type));
		c->masquerade = v->b;
	}
	if ((v = conf_toml_get(t, "exit_node"))) {
		if (v->type != CONF_TOML_BOOL)
			return at(r, v, "device.exit_node must be true or false (to use another "
				  "device as exit: network.exit_node = \"NAME\"), got %s",
				  conf_toml_type_name(v->type));
		c->exit_offer = v->b;
	}
	return read_routes(r, t, c);
}

static int read_stun(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "servers", NULL };
	const struct conf_toml_value *t, *v;
	int ret;

	t = section(r, root, "stun", false, &ret);
	if (ret < 0)
		return ret;
	if (!t || !(v = conf_toml_get(t, "servers"))) {
		if (t && (ret = check_keys(r, t, "[stun]", known)) < 0)
			return ret;
		ret = conf_init(c);	/* defaults; the caller fills the rest after */
		return ret < 0 ? rg_err_set(r->err, ret, "%s: out of memory", r->name) : 0;
	}
	if ((ret = check_keys(r, t, "[stun]", known)) < 0)
		return ret;
	if (v->type != CONF_TOML_ARRAY)
		return at(r, v, "stun.servers must be an array of strings, got %s",
			  conf_toml_type_name(v->type));
	if (v->array.n > CONF_LIST_MAX)
		return at(r, v, "stun.servers has more than %d entries", CONF_LIST_MAX);
	c->stun_servers = calloc(v->array.n + 1, sizeof(char *));
	if (!c->stun_servers)
		return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
	for (size_t i = 0; i < v->array.n; i++) {
		const struct conf_toml_value *e = v->array.items[i];

		if (e->type != CONF_TOML_STRING)
			return at(r, e, "stun.servers[%zu] must be a string, got %s", i,
				  conf_toml_type_name(e->type));
		if (strlen(e->str.ptr) != e->str.len || !conf_valid_stun_url(e->str.ptr))
			return at(r, e, "stun.servers[%zu] must be stun:HOST[:PORT], got '%.100s'",
				  i, e->str.ptr);
		c->stun_servers[i] = strdup(e->str.ptr);
		if (!c->stun_servers[i])
			return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
		c->n_stun++;
	}
	return 0;
}

static int read_turn(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "url", "username", "credential", "ca_file", NULL };
	const struct conf_toml_value *a = conf_toml_get(root, "turn"), *v;
	int ret;

	if (!a)
		return 0;
	if (a->type != CONF_TOML_ARRAY)
		return at(r, a, "turn must be an array of tables ([[turn]]), got %s",
			  conf_toml_type_name(a->type));
	if (a->array.n > CONF_LIST_MAX)
		return at(r, a, "more than %d [[turn]] entries", CONF_LIST_MAX);
	c->turn = calloc(a->array.n + 1, sizeof(*c->turn));
	if (!c->turn)
		return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
	for (size_t i = 0; i < a->array.n; i++) {
		const struct conf_toml_value *t = a->array.items[i];
		struct conf_turn *e = &c->turn[i];
		struct rg_ice_url url;
		char where[32];

		c->n_turn++;
		snprintf(where, sizeof(where), "turn[%zu]", i);
		if (t->type != CONF_TOML_TABLE)
			return at(r, t, "%s must be a table, got %s", where,
				  conf_toml_type_name(t->type));
		if ((ret = check_keys(r, t, "[[turn]]", known)) < 0)
			return ret;
		if ((ret = get_string(r, t, where, "url", true, &v, &e->url)) < 0)
			return ret;
		if (rg_ice_url_parse(&url, e->url) == -EPROTONOSUPPORT)
			return at(r, v, "%s.url: turns: is TLS over TCP; ?transport=udp (DTLS to the "
				  "TURN server) is not supported, got '%.100s'", where, e->url);
		if (!conf_valid_turn_url(e->url))
			return at(r, v, "%s.url must be turn:HOST[:PORT] or turns:HOST[:PORT], "
				  "optionally with ?transport=udp or ?transport=tcp, got '%.100s'",
				  where, e->url);
		if ((ret = get_string(r, t, where, "username", false, &v, &e->username)) < 0)
			return ret;
		if ((ret = get_string(r, t, where, "credential", false, &v, &e->credential)) < 0)
			return ret;
		if (!e->username != !e->credential)
			return at(r, t, "%s needs both username and credential, or neither (then "
				  "network.turn_secret derives them)", where);
		if (!e->username && !c->turn_secret)
			return at(r, t, "%s has no username/credential and network.turn_secret is "
				  "not set", where);
		if ((ret = get_string(r, t, where, "ca_file", false, &v, &e->ca_file)) < 0)
			return ret;
		if (e->ca_file && strncmp(e->url, "turns:", 6) != 0)
			return at(r, v, "%s.ca_file only applies to a turns: URL (TLS), got '%.100s'",
				  where, e->url);
		if (e->ca_file && !conf_valid_ca_file(e->ca_file))
			return at(r, v, "%s.ca_file must be an absolute path, got '%.100s'", where,
				  e->ca_file);
	}
	return 0;
}

static const char *const default_exclude[] = CONF_DEFAULT_EXCLUDE_INTERFACES;

const char *const *conf_exclude_interfaces(const struct conf *c, size_t *n)
{
	if (c->exclude_interfaces_set) {
		*n = c->n_exclude_interfaces;
		return (const char *const *)c->exclude_interfaces;
	}
	*n = sizeof(default_exclude) / sizeof(default_exclude[0]);
	return default_exclude;
}

/* An interface-name glob: what a Linux interface name may hold (no '/', ':' or white space)
 * plus fnmatch's * ? [ ], printable ASCII. */
static bool valid_exclude_pattern(const char *s, size_t len)
{
	if (len < 1 || len > CONF_EXCLUDE_PATTERN_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

static int read_exclude(struct reader *r, const struct conf_toml_value *v, struct conf *c)
{
	if (v->type != CONF_TOML_ARRAY)
		return at(r, v, "webrtc.exclude_interfaces must be an array of strings, got %s",
			  conf_toml_type_name(v->type));
	if (v->array.n > CONF_LIST_MAX)
		return at(r, v, "webrtc.exclude_interfaces has more than %d entries", CONF_LIST_MAX);
	c->exclude_interfaces = calloc(v->array.n + 1, sizeof(char *));
	if (!c->exclude_interfaces)
		return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
	c->exclude_interfaces_set = true;
	for (size_t i = 0; i < v->array.n; i++) {
		const struct conf_toml_value *e = v->array.items[i];

		if (e->type != CONF_TOML_STRING)
			return at(r, e, "webrtc.exclude_interfaces[%zu] must be a string, got %s", i,
				  conf_toml_type_name(e->type));
		if (!valid_exclude_pattern(e->str.ptr, e->str.len))
			return at(r, e, "webrtc.exclude_interfaces[%zu] must be an interface name or "
				  "glob (1-%d printable characters, no '/', ':' or spaces), got "
				  "'%.100s'", i, CONF_EXCLUDE_PATTERN_MAX, e->str.ptr);
		c->exclude_interfaces[i] = strdup(e->str.ptr);
		if (!c->exclude_interfaces[i])
			return rg_err_set(r->err, -ENOMEM, "%s: out of memory", r->name);
		c->n_exclude_interfaces++;
	}
	return 0;
}

static int read_webrtc(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "ordered", "max_retransmits", "path_mtu",
					     "exclude_interfaces", "direct_path", NULL };
	const struct conf_toml_value *t, *v;
	int ret;

	c->direct_path = true;
	t = section(r, root, "webrtc", false, &ret);
	if (ret < 0 || !t)
		return ret;
	if ((ret = check_keys(r, t, "[webrtc]", known)) < 0)
		return ret;
	if ((v = conf_toml_get(t, "ordered"))) {
		if (v->type != CONF_TOML_BOOL)
			return at(r, v, "webrtc.ordered must be true or false, got %s",
				  conf_toml_type_name(v->type));
		c->ordered = v->b;
	}
	if ((v = conf_toml_get(t, "max_retransmits"))) {
		if (v->type != CONF_TOML_INTEGER)
			return at(r, v, "webrtc.max_retransmits must be an integer, got %s",
				  conf_toml_type_name(v->type));
		if (v->i < 0 || v->i > 65535)
			return at(r, v, "webrtc.max_retransmits must be 0-65535, got %lld",
				  (long long)v->i);
		c->max_retransmits = (unsigned)v->i;
	}
	if ((v = conf_toml_get(t, "path_mtu"))) {
		if (v->type != CONF_TOML_INTEGER)
			return at(r, v, "webrtc.path_mtu must be an integer, got %s",
				  conf_toml_type_name(v->type));
		if (v->i < CONF_PATH_MTU_MIN || v->i > CONF_PATH_MTU_MAX)
			return at(r, v, "webrtc.path_mtu must be %d-%d (UDP payload bytes), got %lld",
				  CONF_PATH_MTU_MIN, CONF_PATH_MTU_MAX, (long long)v->i);
		c->path_mtu = (unsigned)v->i;
	}
	if ((v = conf_toml_get(t, "direct_path"))) {
		if (v->type != CONF_TOML_BOOL)
			return at(r, v, "webrtc.direct_path must be true or false, got %s",
				  conf_toml_type_name(v->type));
		c->direct_path = v->b;
	}
	if ((v = conf_toml_get(t, "exclude_interfaces")) && (ret = read_exclude(r, v, c)) < 0)
		return ret;
	return 0;
}

bool conf_valid_listen(const char *s)
{
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2], *end;
	unsigned char buf[sizeof(struct in6_addr)];
	unsigned long port;
	size_t hl;

	if (!colon || colon == s || strlen(s) > sizeof(host) + 6)
		return false;
	hl = (size_t)(colon - s);
	port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] < '1' || colon[1] > '9' || port > 65535)
		return false;
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return false;
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = '\0';
		return inet_pton(AF_INET6, host, buf) == 1;
	}
	if (hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	return inet_pton(AF_INET, host, buf) == 1;
}

static int read_metrics(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "listen", NULL };
	const struct conf_toml_value *t, *v;
	int ret;

	t = section(r, root, "metrics", false, &ret);
	if (ret < 0 || !t)
		return ret;
	if ((ret = check_keys(r, t, "[metrics]", known)) < 0)
		return ret;
	if ((ret = get_string(r, t, "metrics", "listen", false, &v, &c->metrics_listen)) < 0)
		return ret;
	if (c->metrics_listen && !conf_valid_listen(c->metrics_listen))
		return at(r, v, "metrics.listen must be IPv4:PORT or [IPv6]:PORT (a literal address, "
			  "e.g. \"127.0.0.1:9587\"), got '%.100s'", c->metrics_listen);
	return 0;
}

/* [log] level: the agent's threshold, applied at start and by every reload. "warning" is
 * journalctl's name for warn. */
static int read_log(struct reader *r, const struct conf_toml_value *root, struct conf *c)
{
	static const char *const known[] = { "level", NULL };
	const struct conf_toml_value *t, *v;
	char *level = NULL;
	int ret;

	t = section(r, root, "log", false, &ret);
	if (ret < 0 || !t)
		return ret;
	if ((ret = check_keys(r, t, "[log]", known)) < 0 ||
	    (ret = get_string(r, t, "log", "level", false, &v, &level)) <= 0)
		return ret;
	if (rg_log_parse_level(level, &c->log_level)) {
		c->log_level_set = true;
		ret = 0;
	} else {
		ret = at(r, v, "log.level must be \"error\", \"warning\", \"info\", \"debug\" or "
			 "\"trace\", got '%.32s'", level);
	}
	free(level);
	return ret;
}

int conf_from_toml(struct conf *out, const struct conf_toml_value *root, const char *name,
		   struct rg_err *err)
{
	static const char *const known[] = { "network", "device", "stun", "turn", "webrtc",
					      "metrics", "log", NULL };
	struct reader r = { .name = name ? name : "<config>", .err = err };
	struct conf c;
	int ret;

	memset(&c, 0, sizeof(c));
	memset(out, 0, sizeof(*out));
	if (!root || root->type != CONF_TOML_TABLE)
		return at(&r, NULL, "not a TOML table");
	/* [stun] first: its defaults come from conf_init(), which zeroes the struct. */
	if ((ret = check_keys(&r, root, "the top level", known)) < 0 ||
	    (ret = read_stun(&r, root, &c)) < 0 || (ret = read_network(&r, root, &c)) < 0 ||
	    (ret = read_device(&r, root, &c)) < 0 || (ret = read_turn(&r, root, &c)) < 0 ||
	    (ret = read_webrtc(&r, root, &c)) < 0 || (ret = read_metrics(&r, root, &c)) < 0 ||
	    (ret = read_log(&r, root, &c)) < 0)
		goto fail;
	if (!c.interface[0])
		strcpy(c.interface, CONF_DEFAULT_INTERFACE);
	*out = c;
	return 0;
fail:
	conf_clear(&c);
	return ret;
}

/* Depth is bounded by the parser (CONF_TOML_MAX_DEPTH). */
static void wipe_strings(struct conf_toml_value *v)
{
	if (v->type == CONF_TOML_STRING) {
		rg_memzero(v->str.ptr, v->str.len);
	} else if (v->type == CONF_TOML_TABLE) {
		for (size_t i = 0; i < v->table.n; i++)
			wipe_strings(v->table.items[i].val);
	} else if (v->type == CONF_TOML_ARRAY) {
		for (size_t i = 0; i < v->array.n; i++)
			wipe_strings(v->array.items[i]);
	}
}

int conf_parse(struct conf *c, const char *text, size_t len, const char *name,
	       struct rg_err *err)
{
	struct conf_toml_value *root;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = conf_toml_parse(&root, text, len, name, err);
	if (ret < 0)
		return ret;
	ret = conf_from_toml(c, root, name, err);
	wipe_strings(root);	/* the tree holds copies of the secrets */
	conf_toml_free(root);
	return ret;
}

int conf_validate(const struct conf *c, const char *name, struct rg_err *err)
{
	struct reader r = { .name = name ? name : "<config>", .err = err };

	if (!c->network_name || !conf_valid_name(c->network_name))
		return at(&r, NULL, "network.name must be 1-%d characters of A-Z a-z 0-9 . _ -",
			  CONF_NAME_MAX);
	if (!c->server_url || !conf_valid_server_url(c->server_url))
		return at(&r, NULL, "network.server_url must be ws://HOST[:PORT][/PATH] or "
			  "wss://HOST[:PORT][/PATH]");
	if (!c->auth_token || !*c->auth_token || !printable_nospace(c->auth_token))
		return at(&r, NULL, "network.auth_token must be non-empty, without spaces or "
			  "control characters");
	if (!c->device_name || !conf_valid_name(c->device_name))
		return at(&r, NULL, "device.name must be 1-%d characters of A-Z a-z 0-9 . _ -",
			  CONF_NAME_MAX);
	if (!c->address || !rg_prefix_parse(&(struct rg_prefix){ 0 }, c->address))
		return at(&r, NULL, "device.address must be an IPv4 or IPv6 CIDR");
	if (!conf_valid_ifname(c->interface))
		return at(&r, NULL, "device.interface must be 1-%d characters of A-Z a-z 0-9 . _ -",
			  CONF_IFNAME_MAX);
	if (c->mtu && (c->mtu < CONF_MTU_MIN || c->mtu > CONF_MTU_MAX))
		return at(&r, NULL, "device.mtu must be %d-%d", CONF_MTU_MIN, CONF_MTU_MAX);
	if (c->n_routes > CONF_ROUTES_MAX)
		return at(&r, NULL, "device.routes has more than %d entries", CONF_ROUTES_MAX);
	for (size_t i = 0; i < c->n_routes; i++)
		if (conf_route_check(&c->routes[i], c->addr.family) != CONF_ROUTE_OK)
			return at(&r, NULL, "device.routes[%zu] %s", i,
				  conf_route_verdict_str(conf_route_check(&c->routes[i],
									  c->addr.family)));
	if (c->exit_node && !conf_valid_name(c->exit_node))
		return at(&r, NULL, "network.exit_node must be a peer name");
	for (size_t i = 0; i < c->n_accept_routes_from; i++)
		if (!conf_valid_name(c->accept_routes_from[i]))
			return at(&r, NULL, "network.accept_routes[%zu] must be a peer name", i);
	for (size_t i = 0; i < c->n_stun; i++)
		if (!conf_valid_stun_url(c->stun_servers[i]))
			return at(&r, NULL, "stun.servers[%zu] must be stun:HOST[:PORT]", i);
	for (size_t i = 0; i < c->n_turn; i++)
		if (!c->turn[i].url || !conf_valid_turn_url(c->turn[i].url) ||
		    !c->turn[i].username != !c->turn[i].credential ||
		    (!c->turn[i].username && !c->turn_secret) ||
		    (c->turn[i].ca_file && (strncmp(c->turn[i].url, "turns:", 6) != 0 ||
					    !conf_valid_ca_file(c->turn[i].ca_file))))
			return at(&r, NULL, "turn[%zu] is not valid", i);
	if (c->max_retransmits > 65535)
		return at(&r, NULL, "webrtc.max_retransmits must be 0-65535");
	if (c->path_mtu && (c->path_mtu < CONF_PATH_MTU_MIN || c->path_mtu > CONF_PATH_MTU_MAX))
		return at(&r, NULL, "webrtc.path_mtu must be %d-%d", CONF_PATH_MTU_MIN,
			  CONF_PATH_MTU_MAX);
	if (c->metrics_listen && !conf_valid_listen(c->metrics_listen))
		return at(&r, NULL, "metrics.listen must be IPv4:PORT or [IPv6]:PORT");
	return 0;
}

/* ---- loading and saving ---- */

int conf_load(struct conf *c, const char *path, struct rg_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int fd, ret;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rg_err_set(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = rg_err_set(err, -errno, "%s: cannot stat: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = rg_err_set(err, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		ret = rg_err_set(err, -EPERM, "%s: holds a private key but is accessible by group or "
				 "others (mode %03o); fix with: chmod 600 %s", path,
				 (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		ret = rg_err_set(err, -EFBIG, "%s: larger than %d bytes", path, CONF_FILE_MAX);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		ret = rg_err_set(err, -ENOMEM, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = rg_err_set(err, -errno, "%s: read failed: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	ret = conf_parse(c, text, got, path, err);
out:
	if (text) {
		rg_memzero(text, got);
		free(text);
	}
	close(fd);
	return ret;
}

struct out {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->n + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 512;
		char *np;

		while (cap < o->n + n + 1)
			cap *= 2;
		np = malloc(cap);	/* not realloc: the old buffer is wiped, it may hold keys */
		if (!np) {
			o->oom = true;
			return;
		}
		if (o->p) {
			memcpy(np, o->p, o->n);
			rg_memzero(o->p, o->cap);
			free(o->p);
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			put(o, esc, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04X", ch);
			put(o, esc, 6);
		} else {
			put(o, (const char *)&ch, 1);
		}
	}
	put(o, "\"", 1);
}

/* key = ["a", "b"]; nothing when n is 0. */
static void put_list(struct out *o, const char *key, char *const *v, size_t n)
{
	if (!n)
		return;
	puts_(o, key);
	puts_(o, " = [");
	for (size_t i = 0; i < n; i++) {
		if (i)
			puts_(o, ", ");
		put_str(o, v[i]);
	}
	puts_(o, "]\n");
}

static void put_kv(struct out *o, const char *key, const char *val)
{
	puts_(o, key);
	puts_(o, " = ");
	put_str(o, val);
	puts_(o, "\n");
}

int conf_format(const struct conf *c, char **text)
{
	struct out o = { 0 };
	char key[RG_KEY_B64_LEN + 1], num[32];

	*text = NULL;
	puts_(&o, "# riftgate configuration. Keep it private (mode 0600): it holds a private key.\n"
		  "\n[network]\n");
	put_kv(&o, "name", c->network_name ? c->network_name : "");
	put_kv(&o, "server_url", c->server_url ? c->server_url : "");
	put_kv(&o, "auth_token", c->auth_token ? c->auth_token : "");
	if (c->turn_secret)
		put_kv(&o, "turn_secret", c->turn_secret);
	if (c->exit_node)
		put_kv(&o, "exit_node", c->exit_node);
	if (c->dns_domain)
		put_kv(&o, "domain", c->dns_domain);
	if (c->kill_switch)
		puts_(&o, "kill_switch = true\n");
	if (c->relay != CONF_RELAY_AUTO)
		put_kv(&o, "relay", c->relay == CONF_RELAY_NEVER ? "never" : "always");
	if (c->accept_routes_all)
		puts_(&o, "accept_routes = true\n");
	if (c->n_accept_routes_from) {
		puts_(&o, "accept_routes = [");
		for (size_t i = 0; i < c->n_accept_routes_from; i++) {
			if (i)
				puts_(&o, ", ");
			put_str(&o, c->accept_routes_from[i]);
		}
		puts_(&o, "]\n");
	}
	put_list(&o, "dns", c->dns_servers, c->n_dns_servers);
	put_list(&o, "search", c->dns_search, c->n_dns_search);
	if (c->max_peers && c->max_peers != CONF_MAX_PEERS_DEFAULT) {
		snprintf(num, sizeof(num), "max_peers = %u\n", c->max_peers);
		puts_(&o, num);
	}
	if (c->allow_insecure_transport)
		puts_(&o, "allow_insecure_transport = true   # ws:// sends the token in clear\n");
	puts_(&o, "\n[device]\n");
	put_kv(&o, "name", c->device_name ? c->device_name : "");
	rg_key_to_base64(key, c->private_key);
	put_kv(&o, "private_key", key);
	rg_memzero(key, sizeof(key));
	put_kv(&o, "address", c->address ? c->address : "");
	put_kv(&o, "interface", c->interface);
	if (c->mtu) {
		snprintf(num, sizeof(num), "mtu = %u\n", c->mtu);
		puts_(&o, num);
	}
	if (c->n_routes) {
		char pfx[RG_PREFIX_STR_MAX];

		puts_(&o, "routes = [");
		for (size_t i = 0; i < c->n_routes; i++) {
			if (i)
				puts_(&o, ", ");
			rg_prefix_format(&c->routes[i], pfx, sizeof(pfx));
			put_str(&o, pfx);
		}
		puts_(&o, "]\n");
	}
	if ((c->n_routes || c->exit_offer) && !c->masquerade)
		puts_(&o, "masquerade = false\n");
	if (c->exit_offer)
		puts_(&o, "exit_node = true\n");
	puts_(&o, "\n[stun]\nservers = [");
	for (size_t i = 0; i < c->n_stun; i++) {
		if (i)
			puts_(&o, ", ");
		put_str(&o, c->stun_servers[i]);
	}
	puts_(&o, "]\n");
	for (size_t i = 0; i < c->n_turn; i++) {
		puts_(&o, "\n[[turn]]\n");
		put_kv(&o, "url", c->turn[i].url ? c->turn[i].url : "");
		if (c->turn[i].username)
			put_kv(&o, "username", c->turn[i].username);
		if (c->turn[i].credential)
			put_kv(&o, "credential", c->turn[i].credential);
		if (c->turn[i].ca_file)
			put_kv(&o, "ca_file", c->turn[i].ca_file);
	}
	puts_(&o, "\n[webrtc]\n");
	puts_(&o, c->ordered ? "ordered = true\n" : "ordered = false\n");
	snprintf(num, sizeof(num), "max_retransmits = %u\n", c->max_retransmits);
	puts_(&o, num);
	if (c->path_mtu) {
		snprintf(num, sizeof(num), "path_mtu = %u\n", c->path_mtu);
		puts_(&o, num);
	}
	if (!c->direct_path)
		puts_(&o, "direct_path = false\n");
	if (c->exclude_interfaces_set) {
		puts_(&o, "exclude_interfaces = [");
		for (size_t i = 0; i < c->n_exclude_interfaces; i++) {
			if (i)
				puts_(&o, ", ");
			put_str(&o, c->exclude_interfaces[i]);
		}
		puts_(&o, "]\n");
	}
	if (c->metrics_listen) {
		puts_(&o, "\n[metrics]\n");
		put_kv(&o, "listen", c->metrics_listen);
	}
	if (c->log_level_set) {
		puts_(&o, "\n[log]\n");
		put_kv(&o, "level", c->log_level == RG_LOG_WARN ? "warning" :
				    rg_log_level_name(c->log_level));
	}
	if (o.oom) {
		conf_text_free(o.p);
		return -ENOMEM;
	}
	*text = o.p;
	return 0;
}

void conf_text_free(char *text)
{
	free_secret(text);
}

/* mkdir -p for the directory part of path, new directories 0700. */
static int make_parents(const char *path, struct rg_err *err)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return rg_err_set(err, -ENAMETOOLONG, "%s: path too long", path);
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return rg_err_set(err, -errno, "%s: cannot create directory: %s", dir,
					  strerror(errno));
		*p = '/';
	}
	return 0;
}

int conf_save(const struct conf *c, const char *path, bool overwrite, struct rg_err *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX], *text = NULL, *slash;
	size_t len, done = 0;
	int fd = -1, ret;

	if ((ret = conf_validate(c, path, err)) < 0)
		return ret;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return rg_err_set(err, -ENAMETOOLONG, "%s: path too long", path);
	if ((ret = make_parents(path, err)) < 0)
		return ret;
	if (!overwrite && access(path, F_OK) == 0)
		return rg_err_set(err, -EEXIST, "%s already exists (use --force to replace it)",
				  path);
	if (conf_format(c, &text) < 0)
		return rg_err_set(err, -ENOMEM, "%s: out of memory", path);
	len = strlen(text);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		ret = rg_err_set(err, -errno, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0)	/* whatever the umask */
		goto io_fail;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto io_fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto io_fail;
	if (close(fd) < 0) {
		fd = -1;
		goto io_fail;
	}
	fd = -1;
	/* No-overwrite: link() fails if the name appeared meanwhile; otherwise rename replaces. */
	if (!overwrite) {
		if (link(tmp, path) < 0) {
			ret = rg_err_set(err, -errno, errno == EEXIST ?
					 "%s already exists (use --force to replace it)" :
					 "%s: cannot create: %s", path, strerror(errno));
			unlink(tmp);
			goto out;
		}
		unlink(tmp);
	} else if (rename(tmp, path) < 0) {
		goto io_fail;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);	/* make the rename durable; best effort */
		close(fd);
	}
	fd = -1;
	ret = 0;
	goto out;
io_fail:
	ret = rg_err_set(err, -errno, "%s: cannot write: %s", tmp, strerror(errno));
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	conf_text_free(text);
	return ret;
}

int conf_default_path(char *buf, size_t cap, struct rg_err *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	/* XDG Base Directory: a relative $XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/riftgate/config.toml", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, cap, "%s/.config/riftgate/config.toml", home);
	else
		return rg_err_set(err, -ENOENT, "neither XDG_CONFIG_HOME nor HOME is set; use "
				  "--config PATH");
	if (n < 0 || (size_t)n >= cap)
		return rg_err_set(err, -ENAMETOOLONG, "config path too long");
	return 0;
}
