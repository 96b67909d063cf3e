/* libFuzzer target: arbitrary bytes through the STUN/TURN URL parser (util/iceurl.h). What it
 * accepts must hold together: a host that fits and has no brackets, a port, a scheme's rules. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/iceurl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_ice_url u;
	char *s;
	int ret;

	if (size > 1024)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ret = rg_ice_url_parse(&u, s);
	if (ret == 0) {
		size_t hl = strnlen(u.host, sizeof(u.host));

		if (hl == 0 || hl > RG_ICE_URL_HOST_MAX || strchr(u.host, '[') || !u.port ||
		    (u.scheme == RG_ICE_URL_TURNS && !u.tcp) || (u.scheme == RG_ICE_URL_STUN && u.tcp) ||
		    (!u.has_port && u.port != (u.scheme == RG_ICE_URL_TURNS ? 5349 : 3478)))
			__builtin_trap();
	} else if (ret != -EINVAL && ret != -EPROTONOSUPPORT) {
		__builtin_trap();
	}
	free(s);
	return 0;
}
