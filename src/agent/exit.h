/* Exit node (docs/routes.md): send all traffic of the tunnel's family through a peer that
 * offers it (it advertises the default route). Policy routing as wg-quick does it: a table of
 * our own with a default route to the TUN, "not fwmark M → that table" and "main, suppress
 * prefix length 0" rules, and fwmark M on every socket of the agent (sockmark.c), so the hub
 * connection and the ICE/TURN sockets never loop into the tunnel. The exit peer gets the
 * allowed IP /0. Kill switch: the rules stay while the exit is down, so traffic is dropped
 * instead of leaving outside the tunnel. Selecting none deletes exactly what was added, so
 * `ip rule` and `ip route show table all` read as before. Agent loop only. */
#ifndef RG_AGENT_EXIT_H
#define RG_AGENT_EXIT_H

#include <stdbool.h>
#include <stdint.h>

struct agent;
struct agent_exit;
struct agent_status;
struct rg_err;

/* The fwmark of the agent's sockets and the number of its routing table. */
uint32_t agent_exit_mark(int ifindex);

int agent_exit_new(struct agent_exit **out, struct agent *a, const char *name, bool kill_switch);
/* name NULL, "" or "none": no exit node. Errors: a name outside the id alphabet. */
int agent_exit_select(struct agent_exit *x, const char *name, struct rg_err *err);
/* Re-checks the exit peer (offer, state) and applies the routing; exit.c also runs it on a timer. */
void agent_exit_update(struct agent_exit *x);
void agent_exit_free(struct agent_exit *x);
void agent_exit_status(const struct agent_exit *x, struct agent_status *s);

#endif
