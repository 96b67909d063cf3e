/* libFuzzer target: the demultiplexer of the ICE 5-tuple and the direct path's framing
 * (src/rtc/wgframe.c). Invariants: a GRO train is cut into pieces that each start where the
 * last ended, are non-empty and never run past the input; a frame that unwraps re-wraps (or
 * re-encodes, for probes) to the same bytes; a message that wraps unwraps to itself; and only
 * first byte 8 ever reaches the direct path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/wgframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t off = 0, l;
	enum rtc_demux k = rtc_demux_classify(data, size);

	if ((k == RTC_DEMUX_DIRECT) != (size > 0 && data[0] == RTC_WGF_TYPE))
		__builtin_trap();
	while ((l = rtc_demux_train_cut(data + off, size - off)) > 0) {
		if (l >= size - off)
			__builtin_trap();
		off += l;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	switch (rtc_wgframe_unwrap(buf, size)) {
	case RTC_WGF_WG:
		if (buf[1] || buf[2] || buf[3] || !rtc_wgframe_wrap(buf, size) ||
		    memcmp(buf, data, size))
			__builtin_trap();
		break;
	case RTC_WGF_PROBE:
	case RTC_WGF_ACK: {
		uint8_t again[RTC_WGF_PROBE_LEN];

		rtc_wgframe_probe(again, data[1], rtc_wgframe_token(buf));
		if (size != RTC_WGF_PROBE_LEN || memcmp(again, data, size))
			__builtin_trap();
		break;
	}
	case RTC_WGF_BAD:
		if (memcmp(buf, data, size))	/* a refused frame is left alone */
			__builtin_trap();
		break;
	}
	memcpy(buf, data, size);
	if (rtc_wgframe_wrap(buf, size)) {
		if (rtc_demux_classify(buf, size) != RTC_DEMUX_DIRECT ||
		    rtc_wgframe_unwrap(buf, size) != RTC_WGF_WG || memcmp(buf, data, size))
			__builtin_trap();
	} else if (memcmp(buf, data, size)) {
		__builtin_trap();
	}
	free(buf);
	return 0;
}
