/* libFuzzer target: DCEP (RFC 8832) decoding; a DATA_CHANNEL_OPEN that decodes must encode
 * back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/dcep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_dcep_open o;
	uint8_t *buf;

	(void)rtc_dcep_msg_type(data, size);
	if (!rtc_dcep_decode_open(&o, data, size))
		return 0;
	buf = malloc(size);
	if (!buf || rtc_dcep_encode_open(buf, size, &o) != (int)size || memcmp(buf, data, size))
		__builtin_trap();
	free(buf);
	return 0;
}
