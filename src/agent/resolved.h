/* Split DNS through systemd-resolved (docs/routes.md#names): tells resolved, over D-Bus
 * (org.freedesktop.resolve1.Manager on the system bus), that the TUN link's DNS server is the
 * name responder (SetLinkDNS) and which domains go there (SetLinkDomains: the mesh zone and "~."
 * as routing-only domains, pushed search domains as search domains), and undoes it on down
 * (RevertLink). A marker file in the run directory remembers a registration until it is undone,
 * so the next `up` after a crash reverts what the crashed agent left. Without resolved (no system
 * bus, nobody owning org.freedesktop.resolve1) the agent says so once and runs on; status shows
 * the state. The calls are asynchronous on the agent's loop, except RevertLink when the agent
 * stops (bounded by a timeout). $DBUS_SYSTEM_BUS_ADDRESS selects the bus (tests use a private
 * one). Agent loop only. */
#ifndef RG_AGENT_RESOLVED_H
#define RG_AGENT_RESOLVED_H

#include <stddef.h>

#include <glib.h>

struct agent_resolved;
struct rg_prefix;

/* Starts connecting to the system bus; nothing is registered before agent_resolved_set(). */
int agent_resolved_new(struct agent_resolved **out, GMainContext *ctx, const char *ifname,
		       int ifindex);
/* (Re)registers dns (the responder's address) and domains, in resolvectl's notation: "~zone" is
 * routing only ("~." = every name), "corp.example" a search domain. */
void agent_resolved_set(struct agent_resolved *r, const struct rg_prefix *dns,
			const char *const *domains, size_t n_domains);
/* RevertLink when something was registered (or is being), then frees. NULL is fine. */
void agent_resolved_free(struct agent_resolved *r);
/* "pending", "registered", "unavailable" or "failed"; *why: the error, "" when none. */
const char *agent_resolved_state(const struct agent_resolved *r, const char **why);

#endif
