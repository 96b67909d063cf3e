/* libFuzzer target: path-MTU probe datagrams (src/rtc/pmtu.c). Whatever parses re-encodes to
 * the same bytes (probes: header and zero padding; acks: all 16), and feeding it to a running
 * search never breaks the state machine's invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/pmtu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t tok[RTC_PMTU_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct rtc_pmtu_msg msg;
	struct rtc_pmtu m;
	uint16_t sizes[RTC_PMTU_MAX_CANDS + 1];
	unsigned n;
	uint8_t *buf;

	if (!rtc_pmtu_parse(data, size, &msg))
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	if (msg.kind == RTC_PMTU_KIND_PROBE)
		rtc_pmtu_encode_probe(buf, msg.size, msg.token);
	else
		rtc_pmtu_encode_ack(buf, msg.size, msg.token);
	/* a probe's padding is not checked on input: compare the header only */
	if (memcmp(buf, data, msg.kind == RTC_PMTU_KIND_PROBE ? RTC_PMTU_HDR_LEN : size))
		__builtin_trap();
	free(buf);
	rtc_pmtu_init(&m);
	rtc_pmtu_start(&m, 1472, 0, tok);
	rtc_pmtu_poll(&m, 0, sizes, &n);
	memcpy(msg.token, tok, sizeof(tok));	/* as if the token were right */
	rtc_pmtu_on_ack(&m, &msg, 1000);
	while (m.phase == RTC_PMTU_SEARCH)
		rtc_pmtu_poll(&m, m.deadline_ns, sizes, &n);
	if (m.mtu < RTC_PMTU_FLOOR || m.mtu > 1472 || n > RTC_PMTU_MAX_CANDS + 1)
		__builtin_trap();
	return 0;
}
