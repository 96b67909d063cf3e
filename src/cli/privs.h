/* Least privilege for `riftgate up` (issue 15 item 11): once the TUN, its addresses and the
 * sockets exist, the agent keeps CAP_NET_ADMIN alone (runtime MTU and address changes over
 * netlink, SO_RCVBUFFORCE on new ICE sockets), in its effective, permitted and bounding sets,
 * with no ambient or inheritable capabilities; the uid stays 0, so files it created (sockets,
 * the detached log) remain its own. The same under sudo and under systemd. */
#ifndef RG_CLI_PRIVS_H
#define RG_CLI_PRIVS_H

#include <stdbool.h>

struct rg_err;

/* keep_dac_read: also keep CAP_DAC_READ_SEARCH, so SIGHUP can re-read a config owned by
 * another user (`sudo riftgate up` with the user's ~/.config file). keep_dac_write: also keep
 * CAP_DAC_OVERRIDE, when that user's signed-network state directory (CONFIG.trust) receives
 * revocations at run time. Returns 0 or -errno with err set. */
int cli_drop_privileges(bool keep_dac_read, bool keep_dac_write, struct rg_err *err);

#endif
