/* Path-MTU probe codec and the sender's state machine (see pmtu.h). Called by probe.c on the
 * peer's loop; no I/O here. */
#include <string.h>

#include "rtc/pmtu.h"
#include "util/ct.h"

static const uint8_t magic[4] = { 'r', 'g', 'P', 'M' };

static void put_hdr(uint8_t *buf, uint8_t kind, uint16_t size,
		    const uint8_t token[RTC_PMTU_TOKEN_LEN])
{
	buf[0] = RTC_PMTU_TYPE;
	buf[1] = kind;
	buf[2] = (uint8_t)(size >> 8);
	buf[3] = (uint8_t)size;
	memcpy(buf + 4, magic, sizeof(magic));
	memcpy(buf + 8, token, RTC_PMTU_TOKEN_LEN);
}

void rtc_pmtu_encode_probe(uint8_t *buf, uint16_t size, const uint8_t token[RTC_PMTU_TOKEN_LEN])
{
	put_hdr(buf, RTC_PMTU_KIND_PROBE, size, token);
	memset(buf + RTC_PMTU_HDR_LEN, 0, size - RTC_PMTU_HDR_LEN);
}

void rtc_pmtu_encode_ack(uint8_t buf[RTC_PMTU_HDR_LEN], uint16_t size,
			 const uint8_t token[RTC_PMTU_TOKEN_LEN])
{
	put_hdr(buf, RTC_PMTU_KIND_ACK, size, token);
}

bool rtc_pmtu_parse(const uint8_t *buf, size_t len, struct rtc_pmtu_msg *out)
{
	struct rtc_pmtu_msg m;

	if (len < RTC_PMTU_HDR_LEN || buf[0] != RTC_PMTU_TYPE || memcmp(buf + 4, magic, 4) != 0)
		return false;
	m.kind = buf[1];
	m.size = (uint16_t)(buf[2] << 8 | buf[3]);
	memcpy(m.token, buf + 8, RTC_PMTU_TOKEN_LEN);
	if (m.kind == RTC_PMTU_KIND_PROBE) {
		if (m.size != len)
			return false;
	} else if (m.kind != RTC_PMTU_KIND_ACK || len != RTC_PMTU_HDR_LEN ||
		   m.size < RTC_PMTU_HDR_LEN) {
		return false;
	}
	*out = m;
	return true;
}

uint16_t rtc_pmtu_link_max(unsigned link_mtu, bool ipv6)
{
	unsigned hdr = ipv6 ? 40 + 8 : 20 + 8;

	if (link_mtu < hdr + RTC_PMTU_FLOOR)
		return 0;
	link_mtu -= hdr;
	return (uint16_t)(link_mtu > RTC_PMTU_CEIL ? RTC_PMTU_CEIL : link_mtu);
}

unsigned rtc_pmtu_candidates(uint16_t max, uint16_t out[RTC_PMTU_MAX_CANDS])
{
	/* 1500-byte Ethernet over IPv4 and IPv6, a common tunnel allowance, IPv6's minimum link */
	static const uint16_t usual[] = { 1472, 1452, 1400, 1280 };
	unsigned n = 0;

	if (max <= RTC_PMTU_FLOOR)
		return 0;
	out[n++] = max;
	for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]); i++)
		if (usual[i] < max && usual[i] > RTC_PMTU_FLOOR && n < RTC_PMTU_MAX_CANDS)
			out[n++] = usual[i];
	return n;
}

void rtc_pmtu_init(struct rtc_pmtu *m)
{
	memset(m, 0, sizeof(*m));
	m->mtu = RTC_PMTU_FLOOR;
	m->deadline_ns = UINT64_MAX;
}

void rtc_pmtu_start(struct rtc_pmtu *m, uint16_t max, uint64_t now_ns,
		    const uint8_t token[RTC_PMTU_TOKEN_LEN])
{
	uint16_t ceil = m->ceiling ? m->ceiling : RTC_PMTU_CEIL;

	if (max > ceil)
		max = ceil;
	m->phase = RTC_PMTU_SEARCH;
	m->n_cands = rtc_pmtu_candidates(max, m->cands);
	/* The floor too: its ack tells "the peer answers, the path is small" from "no answer". */
	m->cands[m->n_cands++] = RTC_PMTU_FLOOR;
	memset(m->acked, 0, sizeof(m->acked));
	m->round = 0;
	m->refined = false;
	m->answered = false;
	m->rtt_ns = 0;
	m->sent_ns = now_ns;
	m->deadline_ns = now_ns;
	m->confirm_out = false;
	m->misses = 0;
	memcpy(m->token, token, RTC_PMTU_TOKEN_LEN);
}

static uint64_t confirm_ns(const struct rtc_pmtu *m)
{
	return (uint64_t)(m->confirm_ms ? m->confirm_ms : RTC_PMTU_CONFIRM_MS) * 1000000u;
}

static int settle(struct rtc_pmtu *m, uint64_t now_ns)
{
	uint16_t best = 0, old = m->mtu;

	for (unsigned i = 0; i < m->n_cands; i++)
		if (m->acked[i] && m->cands[i] > best)
			best = m->cands[i];
	m->phase = RTC_PMTU_SETTLED;
	m->mtu = best ? best : RTC_PMTU_FLOOR;
	m->confirm_out = false;
	m->misses = 0;
	/* Above the floor, confirm now and then that the path still carries it. */
	m->deadline_ns = m->mtu > RTC_PMTU_FLOOR ? now_ns + confirm_ns(m) : UINT64_MAX;
	return RTC_PMTU_EV_DONE | (m->mtu != old ? RTC_PMTU_EV_CHANGED : 0);
}

/* After the usual sizes: sizes spread between the best acknowledged and the smallest lost one,
 * when that gap is wide. Returns true when a refinement round is due. */
static bool refine(struct rtc_pmtu *m, uint64_t now_ns)
{
	uint16_t best = 0, lost = 0, step;
	unsigned n = 0;

	if (m->refined)
		return false;
	for (unsigned i = 0; i < m->n_cands; i++) {
		if (m->acked[i] && m->cands[i] > best)
			best = m->cands[i];
	}
	for (unsigned i = 0; i < m->n_cands; i++)
		if (!m->acked[i] && m->cands[i] > best && (!lost || m->cands[i] < lost))
			lost = m->cands[i];
	if (!best || !lost || lost - best <= RTC_PMTU_REFINE_MIN)
		return false;
	step = (uint16_t)((lost - best) / (RTC_PMTU_MAX_CANDS + 1));
	for (unsigned k = RTC_PMTU_MAX_CANDS; k >= 1; k--)
		m->cands[n++] = (uint16_t)(best + k * step);
	memset(m->acked, 0, sizeof(m->acked));
	m->cands[n] = best;	/* already through: the floor of this round */
	m->acked[n++] = true;
	m->n_cands = n;
	m->refined = true;
	m->round = 0;
	m->deadline_ns = now_ns;
	return true;
}

static uint64_t round_wait_ns(const struct rtc_pmtu *m)
{
	uint64_t w;

	if (!m->rtt_ns)	/* nothing answered yet: 250, 500, 1000 ms */
		return (uint64_t)RTC_PMTU_FIRST_WAIT_MS * 1000000u << (m->round - 1);
	w = 4 * m->rtt_ns;
	return w < (uint64_t)RTC_PMTU_MIN_WAIT_MS * 1000000u ? (uint64_t)RTC_PMTU_MIN_WAIT_MS *
							       1000000u : w;
}

int rtc_pmtu_poll(struct rtc_pmtu *m, uint64_t now_ns, uint16_t *sizes, unsigned *n_sizes)
{
	uint16_t best = 0;

	*n_sizes = 0;
	if (now_ns < m->deadline_ns)
		return 0;
	if (m->phase == RTC_PMTU_SETTLED) {
		if (m->confirm_out && ++m->misses >= RTC_PMTU_CONFIRM_MISSES) {
			/* The size in use stopped getting through: search again, downwards only. */
			uint8_t token[RTC_PMTU_TOKEN_LEN];

			memcpy(token, m->token, sizeof(token));
			rtc_pmtu_start(m, m->mtu, now_ns, token);
			return rtc_pmtu_poll(m, now_ns, sizes, n_sizes);
		}
		sizes[(*n_sizes)++] = m->mtu;
		m->confirm_out = true;
		m->deadline_ns = now_ns + confirm_ns(m);
		return 0;
	}
	if (m->phase != RTC_PMTU_SEARCH) {
		m->deadline_ns = UINT64_MAX;
		return 0;
	}
	for (unsigned i = 0; i < m->n_cands; i++)
		if (m->acked[i] && m->cands[i] > best)
			best = m->cands[i];
	if (m->round >= RTC_PMTU_ROUNDS)
		return refine(m, now_ns) ? rtc_pmtu_poll(m, now_ns, sizes, n_sizes)
					 : settle(m, now_ns);
	/* Every size not yet acknowledged that would beat the best one so far. */
	for (unsigned i = 0; i < m->n_cands; i++)
		if (!m->acked[i] && m->cands[i] > best)
			sizes[(*n_sizes)++] = m->cands[i];
	if (!*n_sizes)
		return refine(m, now_ns) ? rtc_pmtu_poll(m, now_ns, sizes, n_sizes)
					 : settle(m, now_ns);
	m->round++;
	m->deadline_ns = now_ns + round_wait_ns(m);
	return 0;
}

void rtc_pmtu_postpone(struct rtc_pmtu *m, uint64_t now_ns)
{
	if (m->phase == RTC_PMTU_SETTLED && m->deadline_ns != UINT64_MAX)
		m->deadline_ns = now_ns + confirm_ns(m);
}

int rtc_pmtu_on_ack(struct rtc_pmtu *m, const struct rtc_pmtu_msg *ack, uint64_t now_ns)
{
	if (ack->kind != RTC_PMTU_KIND_ACK || !rg_ct_eq(ack->token, m->token, RTC_PMTU_TOKEN_LEN))
		return 0;
	if (m->phase == RTC_PMTU_SETTLED) {
		if (m->confirm_out && ack->size == m->mtu) {
			m->confirm_out = false;
			m->misses = 0;
		}
		return 0;
	}
	if (m->phase != RTC_PMTU_SEARCH)
		return 0;
	for (unsigned i = 0; i < m->n_cands; i++) {
		if (m->cands[i] != ack->size || m->acked[i])
			continue;
		m->acked[i] = true;
		m->answered = true;
		if (!m->rtt_ns) {
			/* The RTT is known now: no need to sit out the blind round timeout. */
			m->rtt_ns = now_ns > m->sent_ns ? now_ns - m->sent_ns : 1;
			if (now_ns + round_wait_ns(m) < m->deadline_ns)
				m->deadline_ns = now_ns + round_wait_ns(m);
		}
		/* Nothing can beat the largest candidate: done without waiting. */
		return i == 0 ? settle(m, now_ns) : 0;
	}
	return 0;
}
