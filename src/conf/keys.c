/* Private keys from the OS CSPRNG, clamped the way `wg genkey` clamps them; the X25519 itself
 * is util/x25519.c, shared with the WireGuard core. */
#include "conf/keys.h"

#include <errno.h>
#include <sys/random.h>

#include "util/ct.h"
#include "util/x25519.h"

int conf_key_generate(uint8_t priv[static RG_KEY_LEN])
{
	size_t got = 0;

	while (got < RG_KEY_LEN) {
		ssize_t n = getrandom(priv + got, RG_KEY_LEN - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;

			rg_memzero(priv, RG_KEY_LEN);
			return e;
		}
		got += (size_t)n;
	}
	rg_x25519_clamp(priv);
	return 0;
}
