/* The hub connection's proxy, from the environment only: https_proxy / HTTPS_PROXY for wss://
 * (and https://), http_proxy for ws:// (and http://; the upper-case form is not read, as curl
 * does not, since a CGI program gets it from a request header), all_proxy / ALL_PROXY for both
 * when those are unset, no_proxy / NO_PROXY for hosts, domains (".example.com"), addresses and
 * ranges that go direct ("*": every host). Not GLib's default resolver: it loads GIO's proxy
 * modules (libproxy, and GNOME's, which reads GSettings through dconf and starts a `dconf
 * worker` thread) into a daemon that has no desktop settings to read. With no proxy named, a
 * SoupSession gets no resolver at all, so GIO never looks for one (GLib 2.74's
 * GProxyAddressEnumerator asks for the default resolver even when one is set, which loads the
 * modules: that happens only when a proxy is configured). */
#ifndef RG_SIGNAL_PROXY_H
#define RG_SIGNAL_PROXY_H

#include <gio/gio.h>

/* A new reference to a resolver for the proxies the environment names, or NULL when it names
 * none (every connection direct; give the session a NULL "proxy-resolver"). */
GProxyResolver *sig_proxy_resolver_from_env(void);

#endif
