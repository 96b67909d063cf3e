#include "conf/turn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/ct.h"
#include "util/encoding.h"

int conf_turn_rest_credentials(const char *secret, const char *peer_id, int64_t expiry,
			       char *user, size_t user_cap, char *pass, size_t pass_cap)
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	int n;

	if (user_cap)
		user[0] = '\0';
	if (pass_cap)
		pass[0] = '\0';
	if (!secret || !*secret || !peer_id || !*peer_id || strchr(peer_id, ':') || expiry < 0)
		return -EINVAL;
	if (pass_cap < CONF_TURN_PASSWORD_LEN + 1)
		return -ENOSPC;
	n = snprintf(user, user_cap, "%" PRId64 ":%s", expiry, peer_id);
	if (n < 0 || (size_t)n >= user_cap) {
		if (user_cap)
			user[0] = '\0';
		return -ENOSPC;
	}
	if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)user, (size_t)n,
		  mac, &mac_len) || mac_len != 20) {
		rg_memzero(mac, sizeof(mac));
		user[0] = '\0';
		return -EIO;
	}
	rg_base64_encode(pass, mac, mac_len);
	rg_memzero(mac, sizeof(mac));
	return 0;
}
