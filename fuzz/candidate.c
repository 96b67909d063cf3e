/* libFuzzer target: arbitrary bytes through the ICE candidate parser; what parses must format
 * and parse back to the same candidate. */
#include <stdint.h>
#include <string.h>

#include "rtc/sdp.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtc_cand c, back;
	struct rg_err err;
	char buf[RTC_CAND_STR_MAX * 2 + 64];
	int n;

	if (rtc_cand_parse(&c, (const char *)data, size, &err) != 0)
		return 0;
	n = rtc_cand_format(buf, sizeof(buf), &c);
	if (n < 0)
		__builtin_trap();
	/* The formatted form may exceed the input limit only if the input was near it. */
	if ((size_t)n <= RTC_CAND_STR_MAX &&
	    (rtc_cand_parse(&back, buf, (size_t)n, &err) != 0 || back.type != c.type ||
	     back.port != c.port || strcmp(back.addr, c.addr) || back.priority != c.priority ||
	     back.tcp != c.tcp || strcmp(back.foundation, c.foundation)))
		__builtin_trap();
	return 0;
}
