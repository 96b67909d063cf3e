/* See wgframe.h. Every function checks the length before it reads a byte; nothing here
 * allocates or keeps state. */
#include <string.h>

#include "rtc/pmtu.h"
#include "rtc/wgframe.h"

enum { DTLS_REC_HDR = 13 };	/* content type, version, epoch, sequence, length (BE at 11) */

enum rtc_demux rtc_demux_classify(const uint8_t *buf, size_t len)
{
	if (len == 0)
		return RTC_DEMUX_DROP;
	if (buf[0] <= 3)
		return RTC_DEMUX_STUN;
	if (buf[0] >= 20 && buf[0] <= 63)
		return RTC_DEMUX_DTLS;
	if (buf[0] == RTC_PMTU_TYPE)
		return RTC_DEMUX_PMTU;
	if (buf[0] == RTC_WGF_TYPE)
		return RTC_DEMUX_DIRECT;
	return RTC_DEMUX_DROP;
}

size_t rtc_demux_train_cut(const uint8_t *buf, size_t len)
{
	size_t l;

	switch (rtc_demux_classify(buf, len)) {
	case RTC_DEMUX_DTLS:
		if (len <= DTLS_REC_HDR)
			return 0;
		l = DTLS_REC_HDR + ((size_t)buf[11] << 8 | buf[12]);
		break;
	case RTC_DEMUX_DIRECT:
		if (len <= RTC_WGF_HDR_LEN)
			return 0;
		l = (size_t)buf[2] << 8 | buf[3];
		if (l < RTC_WGF_HDR_LEN)
			return 0;
		break;
	default:
		return 0;
	}
	return l < len ? l : 0;
}

bool rtc_wgframe_wrap(uint8_t *buf, size_t len)
{
	if (len < RTC_WGF_WG_MIN || len > RTC_WGF_MAX || buf[0] < RTC_WGF_KIND_WG_MIN ||
	    buf[0] > RTC_WGF_KIND_WG_MAX || buf[1] || buf[2] || buf[3])
		return false;
	buf[1] = buf[0];
	buf[0] = RTC_WGF_TYPE;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return true;
}

enum rtc_wgframe_kind rtc_wgframe_unwrap(uint8_t *buf, size_t len)
{
	if (len < RTC_WGF_HDR_LEN || len > RTC_WGF_MAX || buf[0] != RTC_WGF_TYPE ||
	    ((size_t)buf[2] << 8 | buf[3]) != len)
		return RTC_WGF_BAD;
	if (buf[1] >= RTC_WGF_KIND_WG_MIN && buf[1] <= RTC_WGF_KIND_WG_MAX) {
		if (len < RTC_WGF_WG_MIN)
			return RTC_WGF_BAD;
		buf[0] = buf[1];
		buf[1] = buf[2] = buf[3] = 0;
		return RTC_WGF_WG;
	}
	if (len != RTC_WGF_PROBE_LEN || buf[12] || buf[13] || buf[14] || buf[15])
		return RTC_WGF_BAD;
	if (buf[1] == RTC_WGF_KIND_PROBE)
		return RTC_WGF_PROBE;
	if (buf[1] == RTC_WGF_KIND_PROBE_ACK)
		return RTC_WGF_ACK;
	return RTC_WGF_BAD;
}

void rtc_wgframe_probe(uint8_t out[static RTC_WGF_PROBE_LEN], uint8_t kind,
		       const uint8_t token[static RTC_WGF_TOKEN_LEN])
{
	memset(out, 0, RTC_WGF_PROBE_LEN);
	out[0] = RTC_WGF_TYPE;
	out[1] = kind;
	out[3] = RTC_WGF_PROBE_LEN;
	memcpy(out + RTC_WGF_HDR_LEN, token, RTC_WGF_TOKEN_LEN);
}

const uint8_t *rtc_wgframe_token(const uint8_t *buf)
{
	return buf + RTC_WGF_HDR_LEN;
}
