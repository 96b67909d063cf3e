/* libFuzzer target: arbitrary bytes through the SDP parser. A description that parses must
 * format and parse back to the same ICE/DTLS/SCTP parameters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/sdp.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_sdp *d = malloc(sizeof(*d)), *back = malloc(sizeof(*back));
	struct rg_err err;
	char *s;

	if (!d || !back)
		goto out;
	if (rtc_sdp_parse(d, (const char *)data, size, &err) != 0)
		goto out;
	s = rtc_sdp_format(d, 1);
	if (!s)
		goto out;
	if (rtc_sdp_parse(back, s, strlen(s), &err) != 0 || strcmp(back->ufrag, d->ufrag) ||
	    strcmp(back->pwd, d->pwd) || memcmp(back->fingerprint, d->fingerprint, RTC_FP_LEN) ||
	    back->setup != d->setup || back->sctp_port != d->sctp_port ||
	    strcmp(back->mid, d->mid) || back->legacy != d->legacy)
		__builtin_trap();
	free(s);
out:
	free(d);
	free(back);
	return 0;
}
