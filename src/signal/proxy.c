/* See proxy.h. */
#include <string.h>

#include "signal/proxy.h"

/* The first of names that is set and not empty. */
static const char *env_first(const char *const *names)
{
	for (; *names; names++) {
		const char *v = g_getenv(*names);

		if (v && *v)
			return v;
	}
	return NULL;
}

GProxyResolver *sig_proxy_resolver_from_env(void)
{
	static const char *const https_names[] = { "https_proxy", "HTTPS_PROXY", NULL };
	static const char *const http_names[] = { "http_proxy", NULL };
	static const char *const all_names[] = { "all_proxy", "ALL_PROXY", NULL };
	static const char *const no_names[] = { "no_proxy", "NO_PROXY", NULL };
	const char *all = env_first(all_names), *https = env_first(https_names);
	const char *http = env_first(http_names), *no = env_first(no_names);
	g_auto(GStrv) ignore = NULL;
	GProxyResolver *r;

	if (no && strcmp(no, "*") == 0)
		all = https = http = NULL;
	if (no) {
		ignore = g_strsplit(no, ",", -1);
		for (char **h = ignore; *h; h++)
			g_strstrip(*h);
	}
	if (!all && !https && !http)
		return NULL;
	r = g_simple_proxy_resolver_new(all, ignore);
	if (https) {
		g_simple_proxy_resolver_set_uri_proxy(G_SIMPLE_PROXY_RESOLVER(r), "https", https);
		g_simple_proxy_resolver_set_uri_proxy(G_SIMPLE_PROXY_RESOLVER(r), "wss", https);
	}
	if (http) {
		g_simple_proxy_resolver_set_uri_proxy(G_SIMPLE_PROXY_RESOLVER(r), "http", http);
		g_simple_proxy_resolver_set_uri_proxy(G_SIMPLE_PROXY_RESOLVER(r), "ws", http);
	}
	return r;
}
