/* SDP for data-channel-only offers/answers (RFC 8866, JSEP RFC 8829, RFC 8841) and ICE
 * candidate lines (RFC 8839) in the browser's "candidate:..." form. Pure parsing and
 * formatting, no GLib, no I/O: peer.c calls it, and fuzz/sdp.c and fuzz/candidate.c feed it
 * untrusted bytes. Parsers fill a caller-owned struct and commit only on success. */
#ifndef RG_RTC_SDP_H
#define RG_RTC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtc/rtc.h"

struct rg_err;

enum rtc_sdp_limits {
	RTC_SDP_MAX_LEN = 65536,	/* we refuse larger SDP blobs */
	RTC_SDP_MAX_CANDS = 32,		/* a=candidate lines we keep */
	RTC_UFRAG_MAX = 256,
	RTC_PWD_MAX = 256,
	RTC_MID_MAX = 32,
	RTC_FOUNDATION_MAX = 32,
	RTC_HOST_MAX = 255,		/* FQDN or IP literal */
	RTC_FP_LEN = 32,		/* SHA-256 */
	RTC_CAND_STR_MAX = 512,
};

enum rtc_setup { RTC_SETUP_NONE = 0, RTC_SETUP_ACTPASS, RTC_SETUP_ACTIVE, RTC_SETUP_PASSIVE };

struct rtc_cand {
	char foundation[RTC_FOUNDATION_MAX + 1];
	uint32_t component;
	bool tcp;			/* transport TCP (ignored by us) */
	uint32_t priority;
	char addr[RTC_HOST_MAX + 1];	/* IP literal or FQDN (mDNS ".local" names included) */
	uint16_t port;
	enum rtc_cand_type type;
	bool has_raddr;
	char raddr[RTC_HOST_MAX + 1];
	uint16_t rport;
};

struct rtc_sdp {
	char ufrag[RTC_UFRAG_MAX + 1];
	char pwd[RTC_PWD_MAX + 1];
	uint8_t fingerprint[RTC_FP_LEN];	/* sha-256 */
	enum rtc_setup setup;
	char mid[RTC_MID_MAX + 1];
	uint16_t sctp_port;
	uint32_t max_message_size;	/* 0 = attribute absent (RFC 8841: then 64 KiB) */
	bool trickle;
	bool ice_lite;
	bool end_of_candidates;
	bool rg_crc32c_offload;		/* a=x-rg-crc32c-offload: the remote is riftgate too */
	bool rg_pmtu_probe;		/* a=x-rg-pmtu-probe: answers (and may send) path-MTU
					 * probes (probe.c) */
	bool rg_wg_direct;		/* a=x-rg-wg-direct: takes WireGuard frames on the ICE
					 * 5-tuple (wgframe.h, direct.c) */
	bool legacy;			/* "DTLS/SCTP <port>" + a=sctpmap (aiortc 1.4, old
					 * browsers); an answer mirrors it */
	bool has_session_id;		/* o= carried a readable sess-id */
	uint64_t session_id;		/* o=- <sess-id> ...: the same for every description of
					 * one peer connection (RFC 3264 §5, JSEP §5.2.1) */
	size_t n_cands;
	struct rtc_cand cands[RTC_SDP_MAX_CANDS];
};

/* Parses an offer or answer; exactly one usable "m=application ... UDP/DTLS/SCTP
 * webrtc-datachannel" section is required (other m-sections are ignored). Candidates the parser
 * cannot read are skipped, not fatal. Returns 0, or -EINVAL with err saying why. */
int rtc_sdp_parse(struct rtc_sdp *out, const char *sdp, size_t len, struct rg_err *err);
/* Writes our description (with d->cands as a=candidate lines, usually none: we trickle).
 * Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *rtc_sdp_format(const struct rtc_sdp *d, uint64_t session_id);

/* "candidate:..." (optionally "a=candidate:...") → c. Returns 0 or -EINVAL with a reason. */
int rtc_cand_parse(struct rtc_cand *c, const char *s, size_t len, struct rg_err *err);
/* c → "candidate:..." into buf; returns the length, or -ENOSPC. */
int rtc_cand_format(char *buf, size_t cap, const struct rtc_cand *c);

/* "AB:CD:..." (32 hex pairs) → fp. */
bool rtc_fingerprint_parse(uint8_t fp[static RTC_FP_LEN], const char *s, size_t len);
void rtc_fingerprint_format(char out[static RTC_FP_LEN * 3], const uint8_t fp[static RTC_FP_LEN]);

#endif
