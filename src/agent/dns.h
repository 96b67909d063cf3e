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
struct trust_settings;

#define AGENT_DNS_DEFAULT_DOMAIN "rift"

/* Binds ADDR:53 of our tunnel address; when that fails (port taken) the agent runs on without
 * names and says so. cfg: network/dns_domain (the zone), dns_servers, dns_search. */
int agent_dns_new(struct agent_dns **out, struct agent *a, const struct agent_cfg *cfg);
void agent_dns_free(struct agent_dns *d);
/* The network's signed settings (verified by trust.c) replace the forwarding servers and search
 * domains from then on, resolved's registration included. NULL d: nothing. */
void agent_dns_use_settings(struct agent_dns *d, const struct trust_settings *s);
void agent_dns_status(const struct agent_dns *d, struct agent_status *s);

#endif
