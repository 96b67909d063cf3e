/* See privs.h. libcap-ng from Debian does the capability arithmetic. */
#include <errno.h>
#include <linux/capability.h>

#include <cap-ng.h>

#include "cli/privs.h"
#include "util/err.h"

int cli_drop_privileges(bool keep_dac_read, bool keep_dac_write, struct rg_err *err)
{
	const capng_type_t kept = CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET;

	capng_clear(CAPNG_SELECT_ALL);
	if (capng_update(CAPNG_ADD, kept, CAP_NET_ADMIN) < 0 ||
	    (keep_dac_read && capng_update(CAPNG_ADD, kept, CAP_DAC_READ_SEARCH) < 0) ||
	    (keep_dac_write && capng_update(CAPNG_ADD, kept, CAP_DAC_OVERRIDE) < 0))
		return rg_err_set(err, -EINVAL, "libcap-ng: cannot build the capability set");
	/* Shrinking the bounding set takes CAP_SETPCAP; a unit that already bounds us to less
	 * (CapabilityBoundingSet=) may not give it, and then that bound stands. */
	if (capng_apply(CAPNG_SELECT_ALL) == 0)
		return 0;
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return rg_err_set(err, -EPERM, "cannot drop capabilities (libcap-ng)");
	return 0;
}
