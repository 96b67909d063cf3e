/* Relay frame codec (see relay.h). */
#include <errno.h>
#include <string.h>

#include "signal/relay.h"

size_t sig_relay_encode(uint8_t *out, size_t cap, const char *peer_id, const uint8_t *payload,
			size_t len)
{
	size_t il = strlen(peer_id), n = 2 + il + len;

	if (il == 0 || il > SIG_RELAY_ID_MAX || len == 0 || len > SIG_RELAY_PAYLOAD_MAX || n > cap)
		return 0;
	out[0] = SIG_RELAY_DATAGRAM;
	out[1] = (uint8_t)il;
	memcpy(out + 2, peer_id, il);
	memcpy(out + 2 + il, payload, len);
	return n;
}

int sig_relay_parse(const uint8_t *frame, size_t len, const uint8_t **id, size_t *id_len,
		    const uint8_t **payload, size_t *payload_len)
{
	size_t il;

	if (len < 2 || len > SIG_RELAY_FRAME_MAX || frame[0] != SIG_RELAY_DATAGRAM)
		return -EINVAL;
	il = frame[1];
	if (il == 0 || len - 2 <= il || len - 2 - il > SIG_RELAY_PAYLOAD_MAX)
		return -EINVAL;
	*id = frame + 2;
	*id_len = il;
	*payload = frame + 2 + il;
	*payload_len = len - 2 - il;
	return 0;
}
