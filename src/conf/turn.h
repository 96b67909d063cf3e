/* TURN REST-API credentials (the scheme coturn's use-auth-secret implements): from the network's
 * shared turn_secret, a username "EXPIRY:PEERID" (EXPIRY in Unix seconds) and a password
 * base64(HMAC-SHA1(secret, username)). The TURN server recomputes the HMAC and refuses the pair
 * after EXPIRY, so a leaked credential is only good until then and the secret never travels. */
#ifndef RG_CONF_TURN_H
#define RG_CONF_TURN_H

#include <stddef.h>
#include <stdint.h>

enum {
	CONF_TURN_PASSWORD_LEN = 28,		/* base64 of a 20-byte SHA-1 HMAC */
	CONF_TURN_DEFAULT_TTL = 24 * 3600,	/* seconds a credential stays valid */
};

/* Writes the NUL-terminated username ("expiry:peer_id") and password. expiry is an absolute
 * Unix time (now + TTL). Returns 0, -EINVAL (empty secret or peer id, or a peer id holding ':'),
 * -ENOSPC (a buffer too small; pass >= CONF_TURN_PASSWORD_LEN + 1) or -EIO (HMAC failure).
 * On error both buffers are emptied. */
int conf_turn_rest_credentials(const char *secret, const char *peer_id, int64_t expiry,
			       char *user, size_t user_cap, char *pass, size_t pass_cap);

#endif
