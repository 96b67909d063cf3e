/* DCEP message encoding (RFC 8832 §5). All fields are big-endian. */
#include "rtc/dcep.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t rtc_dcep_open_len(const struct rtc_dcep_open *o)
{
	return RTC_DCEP_OPEN_HDR + (size_t)o->label_len + o->protocol_len;
}

int rtc_dcep_encode_open(uint8_t *buf, size_t cap, const struct rtc_dcep_open *o)
{
	size_t n = rtc_dcep_open_len(o);

	if (cap < n)
		return -ENOSPC;
	buf[0] = RTC_DCEP_OPEN;
	buf[1] = o->channel_type;
	put16(buf + 2, o->priority);
	put32(buf + 4, o->reliability);
	put16(buf + 8, o->label_len);
	put16(buf + 10, o->protocol_len);
	if (o->label_len)
		memcpy(buf + RTC_DCEP_OPEN_HDR, o->label, o->label_len);
	if (o->protocol_len)
		memcpy(buf + RTC_DCEP_OPEN_HDR + o->label_len, o->protocol, o->protocol_len);
	return (int)n;
}

bool rtc_dcep_decode_open(struct rtc_dcep_open *o, const uint8_t *buf, size_t len)
{
	struct rtc_dcep_open t;

	if (len < RTC_DCEP_OPEN_HDR || buf[0] != RTC_DCEP_OPEN)
		return false;
	t.channel_type = buf[1];
	switch (t.channel_type & 0x7f) {
	case RTC_DCEP_RELIABLE:
	case RTC_DCEP_PARTIAL_RELIABLE_REXMIT:
	case RTC_DCEP_PARTIAL_RELIABLE_TIMED:
		break;
	default:
		return false;
	}
	t.priority = get16(buf + 2);
	t.reliability = get32(buf + 4);
	t.label_len = get16(buf + 8);
	t.protocol_len = get16(buf + 10);
	if (len != RTC_DCEP_OPEN_HDR + (size_t)t.label_len + t.protocol_len)
		return false;
	t.label = buf + RTC_DCEP_OPEN_HDR;
	t.protocol = buf + RTC_DCEP_OPEN_HDR + t.label_len;
	*o = t;
	return true;
}

int rtc_dcep_msg_type(const uint8_t *buf, size_t len)
{
	return len ? buf[0] : -1;
}
