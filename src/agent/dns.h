/* Peer names (docs/routes.md#names): a small DNS responder on the tunnel address, port 53,
 * answering NAME.<network>.<domain> (default domain "rift") with the peer's tunnel address (A or
 * AAAA; this device's own name too). Unknown names in that zone get NXDOMAIN, anything else
 * REFUSED, or, with [network] dns, forwarded to the first server that answers. Queries are parsed by net/dns.c. Agent loop only. */
#ifndef RG_AGENT_DNS_H
#define RG_AGENT_DNS_H

#include <stdbool.h>
#include <stdint.h>

struct agent;
struct agent_dns;
struct agent_cfg;
struct agent_status;
struct rg_err;
struct trust_settings;

#define AGENT_DNS_DEFAULT_DOMAIN "rift"

/* Binds ADDR:53 of our tunnel address; when that fails (port taken) the agent runs on without
 * names and says so. cfg: network/dns_domain (the zone), dns_servers, dns_search. */
int agent_dns_new(struct agent_dns **out, struct agent *a, const struct agent_cfg *cfg);
void agent_dns_free(struct agent_dns *d);
/* The network's signed settings (verified by trust.c) replace the forwarding servers and search
 * domains from then on, resolved's registration included. NULL d: nothing. */
void agent_dns_use_settings(struct agent_dns *d, const struct trust_settings *s);
/* Reload: 0 when cfg's [network] domain makes a usable zone, else -EINVAL and err says why.
 * Nothing changes. A guard: a domain conf_load accepts (at most 63 characters) under a network
 * name (at most 64) always fits. */
int agent_dns_check(const struct agent_dns *d, const struct agent_cfg *cfg, struct rg_err *err);
/* Reload: applies cfg's [network] domain (the zone answered) and dns/search (where other names
 * go, the link's search domains), re-registering with resolved, when they differ from what
 * runs. In a signed network its settings keep precedence over dns/search. Call after
 * agent_dns_check(); NULL d: nothing. */
void agent_dns_reconfigure(struct agent_dns *d, const struct agent_cfg *cfg);
void agent_dns_status(const struct agent_dns *d, struct agent_status *s);

#endif
