/* SDP offer/answer subset for data channels and ICE candidate strings. Called by peer.c on the
 * peer's loop and by the fuzzers; no GLib here so the parser stays small and easy to fuzz.
 * The parser works on (pointer, length) slices of the caller's buffer, never past `len`, and
 * writes into a local copy of the result that is committed only when the whole SDP is valid. */
#include "rtc/sdp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

struct slice {
	const char *p;
	size_t n;
};

static bool slice_eq(struct slice s, const char *lit)
{
	size_t l = strlen(lit);

	return s.n == l && memcmp(s.p, lit, l) == 0;
}

static bool slice_ieq(struct slice s, const char *lit)
{
	size_t l = strlen(lit);

	if (s.n != l)
		return false;
	for (size_t i = 0; i < l; i++) {
		char a = s.p[i], b = lit[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static bool slice_prefix(struct slice s, const char *lit, struct slice *rest)
{
	size_t l = strlen(lit);

	if (s.n < l || memcmp(s.p, lit, l) != 0)
		return false;
	rest->p = s.p + l;
	rest->n = s.n - l;
	return true;
}

/* Next space-separated token of *s; false when none is left. */
static bool next_token(struct slice *s, struct slice *tok)
{
	size_t i = 0;

	while (i < s->n && s->p[i] == ' ')
		i++;
	if (i == s->n)
		return false;
	tok->p = s->p + i;
	while (i < s->n && s->p[i] != ' ')
		i++;
	tok->n = (size_t)(s->p + i - tok->p);
	s->p += i;
	s->n -= i;
	return true;
}

static bool parse_u32(struct slice s, uint32_t *out)
{
	uint64_t v = 0;

	if (s.n == 0 || s.n > 10)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Decimal up to 2^63 - 1 (JSEP's sess-id range; 19 digits always fit). */
static bool parse_u64(struct slice s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.n == 0 || s.n > 19)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return true;
}

static bool parse_port(struct slice s, uint16_t *out)
{
	uint32_t v;

	if (!parse_u32(s, &v) || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4) */
static bool is_ice_chars(struct slice s)
{
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return true;
}

/* Visible ASCII without spaces: addresses, mids. */
static bool is_token_chars(struct slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] <= ' ' || s.p[i] > '~')
			return false;
	return true;
}

static void copy_slice(char *dst, struct slice s)
{
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool rtc_fingerprint_parse(uint8_t fp[static RTC_FP_LEN], const char *s, size_t len)
{
	uint8_t tmp[RTC_FP_LEN];

	if (len != RTC_FP_LEN * 3 - 1)
		return false;
	for (size_t i = 0; i < RTC_FP_LEN; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i + 1 < RTC_FP_LEN && s[i * 3 + 2] != ':'))
			return false;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(fp, tmp, RTC_FP_LEN);
	return true;
}

void rtc_fingerprint_format(char out[static RTC_FP_LEN * 3], const uint8_t fp[static RTC_FP_LEN])
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < RTC_FP_LEN; i++) {
		out[i * 3] = hex[fp[i] >> 4];
		out[i * 3 + 1] = hex[fp[i] & 15];
		out[i * 3 + 2] = i + 1 < RTC_FP_LEN ? ':' : '\0';
	}
}

static const char *const cand_type_names[] = {
	[RTC_CAND_HOST] = "host", [RTC_CAND_SRFLX] = "srflx",
	[RTC_CAND_PRFLX] = "prflx", [RTC_CAND_RELAY] = "relay",
};

int rtc_cand_parse(struct rtc_cand *out, const char *str, size_t len, struct rg_err *err)
{
	struct rtc_cand c = { 0 };
	struct slice s = { str, len }, t, key, val;

	while (s.n && (s.p[s.n - 1] == '\r' || s.p[s.n - 1] == '\n' || s.p[s.n - 1] == ' '))
		s.n--;
	if (s.n > RTC_CAND_STR_MAX)
		return rg_err_set(err, -EINVAL, "candidate longer than %d bytes", RTC_CAND_STR_MAX);
	slice_prefix(s, "a=", &s);
	if (!slice_prefix(s, "candidate:", &s))
		return rg_err_set(err, -EINVAL, "candidate '%.*s' does not start with 'candidate:'",
				  (int)(s.n > 40 ? 40 : s.n), s.p);
	if (!next_token(&s, &t) || t.n == 0 || t.n > RTC_FOUNDATION_MAX || !is_ice_chars(t))
		return rg_err_set(err, -EINVAL, "candidate: bad foundation");
	copy_slice(c.foundation, t);
	if (!next_token(&s, &t) || !parse_u32(t, &c.component) || c.component < 1 ||
	    c.component > 256)
		return rg_err_set(err, -EINVAL, "candidate: bad component id '%.*s'", (int)t.n, t.p);
	if (!next_token(&s, &t))
		return rg_err_set(err, -EINVAL, "candidate: missing transport");
	if (slice_ieq(t, "tcp"))
		c.tcp = true;
	else if (!slice_ieq(t, "udp"))
		return rg_err_set(err, -EINVAL, "candidate: unknown transport '%.*s'",
				  (int)(t.n > 16 ? 16 : t.n), t.p);
	if (!next_token(&s, &t) || !parse_u32(t, &c.priority))
		return rg_err_set(err, -EINVAL, "candidate: bad priority");
	if (!next_token(&s, &t) || t.n == 0 || t.n > RTC_HOST_MAX || !is_token_chars(t))
		return rg_err_set(err, -EINVAL, "candidate: bad address");
	copy_slice(c.addr, t);
	if (!next_token(&s, &t) || !parse_port(t, &c.port))
		return rg_err_set(err, -EINVAL, "candidate: bad port");
	if (!next_token(&s, &t) || !slice_eq(t, "typ") || !next_token(&s, &t))
		return rg_err_set(err, -EINVAL, "candidate: missing 'typ'");
	for (size_t i = 1; i < sizeof(cand_type_names) / sizeof(cand_type_names[0]); i++)
		if (slice_eq(t, cand_type_names[i]))
			c.type = (enum rtc_cand_type)i;
	if (c.type == RTC_CAND_NONE)
		return rg_err_set(err, -EINVAL, "candidate: unknown type '%.*s'",
				  (int)(t.n > 16 ? 16 : t.n), t.p);
	/* Extensions come as "key value" pairs; we read raddr/rport and skip the rest
	 * (generation, ufrag, network-id, network-cost, tcptype ...). */
	while (next_token(&s, &key)) {
		if (!next_token(&s, &val))
			return rg_err_set(err, -EINVAL, "candidate: '%.*s' without a value",
					  (int)(key.n > 32 ? 32 : key.n), key.p);
		if (slice_eq(key, "raddr")) {
			if (val.n == 0 || val.n > RTC_HOST_MAX || !is_token_chars(val))
				return rg_err_set(err, -EINVAL, "candidate: bad raddr");
			copy_slice(c.raddr, val);
			c.has_raddr = true;
		} else if (slice_eq(key, "rport")) {
			if (!parse_port(val, &c.rport))
				return rg_err_set(err, -EINVAL, "candidate: bad rport");
		}
	}
	*out = c;
	return 0;
}

int rtc_cand_format(char *buf, size_t cap, const struct rtc_cand *c)
{
	int n;

	if (c->type <= RTC_CAND_NONE || c->type > RTC_CAND_RELAY)
		return -EINVAL;
	if (c->has_raddr)
		n = snprintf(buf, cap, "candidate:%s %" PRIu32 " %s %" PRIu32 " %s %u typ %s raddr %s rport %u",
			     c->foundation, c->component, c->tcp ? "tcp" : "udp", c->priority, c->addr,
			     c->port, cand_type_names[c->type], c->raddr, c->rport);
	else
		n = snprintf(buf, cap, "candidate:%s %" PRIu32 " %s %" PRIu32 " %s %u typ %s",
			     c->foundation, c->component, c->tcp ? "tcp" : "udp", c->priority, c->addr,
			     c->port, cand_type_names[c->type]);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* Attributes that may sit at session level and be overridden by the media section. */
struct sdp_attrs {
	struct slice ufrag, pwd, fingerprint, setup;
	bool has_fp, trickle, ice_lite;
};

static int parse_attr_common(struct sdp_attrs *a, struct slice v, unsigned line,
			     struct rg_err *err)
{
	struct slice rest, t;

	if (slice_prefix(v, "ice-ufrag:", &rest)) {
		a->ufrag = rest;
	} else if (slice_prefix(v, "ice-pwd:", &rest)) {
		a->pwd = rest;
	} else if (slice_prefix(v, "fingerprint:", &rest)) {
		if (!next_token(&rest, &t))
			return rg_err_set(err, -EINVAL, "sdp line %u: empty a=fingerprint", line);
		/* We only verify sha-256; other hashes are skipped if a sha-256 one is present. */
		if (slice_ieq(t, "sha-256")) {
			if (!next_token(&rest, &t))
				return rg_err_set(err, -EINVAL, "sdp line %u: a=fingerprint without value",
						  line);
			a->fingerprint = t;
			a->has_fp = true;
		}
	} else if (slice_prefix(v, "setup:", &rest)) {
		a->setup = rest;
	} else if (slice_prefix(v, "ice-options:", &rest)) {
		while (next_token(&rest, &t))
			if (slice_eq(t, "trickle"))
				a->trickle = true;
	} else if (slice_eq(v, "ice-lite")) {
		a->ice_lite = true;
	}
	return 0;
}

int rtc_sdp_parse(struct rtc_sdp *out, const char *sdp, size_t len, struct rg_err *err)
{
	struct rtc_sdp *d;
	struct sdp_attrs sess = { 0 }, media = { 0 };
	struct slice all = { sdp, len }, mid = { 0 };
	int section = -1;	/* -1 session, else index of the m= line */
	int chosen = -1;	/* index of the data-channel m-section */
	bool have_v = false, have_sctp_port = false;
	unsigned line = 0;
	int ret = 0;

	if (len > RTC_SDP_MAX_LEN)
		return rg_err_set(err, -EINVAL, "sdp: %zu bytes, more than %d", len, RTC_SDP_MAX_LEN);
	d = calloc(1, sizeof(*d));
	if (!d)
		return rg_err_set(err, -ENOMEM, "sdp: out of memory");

	while (all.n) {
		struct slice l = { all.p, 0 }, v, rest, t;

		while (l.n < all.n && l.p[l.n] != '\n')
			l.n++;
		all.p += l.n + (l.n < all.n);
		all.n -= l.n + (l.n < all.n);
		if (l.n && l.p[l.n - 1] == '\r')
			l.n--;
		line++;
		if (l.n == 0)
			continue;
		if (l.n < 2 || l.p[1] != '=') {
			ret = rg_err_set(err, -EINVAL, "sdp line %u: not 'x=value': '%.*s'", line,
					 (int)(l.n > 40 ? 40 : l.n), l.p);
			goto out;
		}
		if (memchr(l.p, '\0', l.n)) {
			ret = rg_err_set(err, -EINVAL, "sdp line %u: NUL byte", line);
			goto out;
		}
		v.p = l.p + 2;
		v.n = l.n - 2;
		if (l.p[0] == 'v') {
			have_v = slice_eq(v, "0");
			continue;
		}
		if (l.p[0] == 'o' && section < 0) {
			/* o=<username> <sess-id> <sess-version> IN IP4 <addr>; only the id matters
			 * (it tells a renegotiation from a new peer connection). Unreadable: none. */
			rest = v;
			d->has_session_id = next_token(&rest, &t) && next_token(&rest, &t) &&
					    parse_u64(t, &d->session_id);
			continue;
		}
		if (l.p[0] == 'm') {
			section++;
			if (chosen >= 0)
				continue;
			/* m=application <port> UDP/DTLS/SCTP webrtc-datachannel */
			rest = v;
			if (!next_token(&rest, &t) || !slice_eq(t, "application"))
				continue;
			if (!next_token(&rest, &t))
				continue;
			if (slice_eq(t, "0")) {
				ret = rg_err_set(err, -EINVAL,
						 "sdp line %u: data-channel m-section rejected (port 0)",
						 line);
				goto out;
			}
			if (next_token(&rest, &t) && slice_eq(t, "DTLS/SCTP")) {
				/* pre-RFC 8841 form: the format is the SCTP port */
				if (!next_token(&rest, &t) || !parse_port(t, &d->sctp_port) ||
				    d->sctp_port == 0) {
					ret = rg_err_set(err, -EINVAL,
							 "sdp line %u: bad 'DTLS/SCTP <port>'", line);
					goto out;
				}
				d->legacy = true;
				have_sctp_port = true;
				chosen = section;
				continue;
			}
			if (!(slice_eq(t, "UDP/DTLS/SCTP") || slice_eq(t, "TCP/DTLS/SCTP")) ||
			    !next_token(&rest, &t) || !slice_eq(t, "webrtc-datachannel")) {
				ret = rg_err_set(err, -EINVAL,
						 "sdp line %u: want 'm=application 9 UDP/DTLS/SCTP "
						 "webrtc-datachannel', got '%.*s'",
						 line, (int)(l.n > 80 ? 80 : l.n), l.p);
				goto out;
			}
			chosen = section;
			continue;
		}
		if (l.p[0] != 'a')
			continue;
		if (section < 0) {
			if ((ret = parse_attr_common(&sess, v, line, err)) < 0)
				goto out;
			continue;
		}
		if (section != chosen)
			continue;
		if ((ret = parse_attr_common(&media, v, line, err)) < 0)
			goto out;
		if (slice_prefix(v, "mid:", &rest)) {
			if (rest.n == 0 || rest.n > RTC_MID_MAX || !is_token_chars(rest)) {
				ret = rg_err_set(err, -EINVAL, "sdp line %u: bad a=mid", line);
				goto out;
			}
			mid = rest;
		} else if (slice_prefix(v, "sctp-port:", &rest)) {
			if (!parse_port(rest, &d->sctp_port) || d->sctp_port == 0) {
				ret = rg_err_set(err, -EINVAL, "sdp line %u: bad a=sctp-port '%.*s'",
						 line, (int)(rest.n > 16 ? 16 : rest.n), rest.p);
				goto out;
			}
			have_sctp_port = true;
		} else if (slice_prefix(v, "max-message-size:", &rest)) {
			uint32_t m;

			if (!parse_u32(rest, &m)) {
				ret = rg_err_set(err, -EINVAL, "sdp line %u: bad a=max-message-size",
						 line);
				goto out;
			}
			/* 0 means "no limit" (RFC 8841 §6); we cap at our own limit anyway. */
			d->max_message_size = m ? m : UINT32_MAX;
		} else if (slice_prefix(v, "candidate:", &rest)) {
			struct rtc_cand c;

			/* Unreadable candidates are skipped: the rest of the SDP may still work. */
			if (d->n_cands < RTC_SDP_MAX_CANDS && rtc_cand_parse(&c, v.p, v.n, NULL) == 0)
				d->cands[d->n_cands++] = c;
		} else if (slice_eq(v, "end-of-candidates")) {
			d->end_of_candidates = true;
		} else if (slice_eq(v, "x-rg-crc32c-offload")) {
			d->rg_crc32c_offload = true;
		} else if (slice_eq(v, "x-rg-pmtu-probe")) {
			d->rg_pmtu_probe = true;
		} else if (slice_eq(v, "x-rg-wg-direct")) {
			d->rg_wg_direct = true;
		}
	}

	if (!have_v) {
		ret = rg_err_set(err, -EINVAL, "sdp: missing 'v=0'");
		goto out;
	}
	if (chosen < 0) {
		ret = rg_err_set(err, -EINVAL,
				 "sdp: no 'm=application ... UDP/DTLS/SCTP webrtc-datachannel' section");
		goto out;
	}
	if (!media.ufrag.p)
		media.ufrag = sess.ufrag;
	if (!media.pwd.p)
		media.pwd = sess.pwd;
	if (!media.has_fp) {
		media.fingerprint = sess.fingerprint;
		media.has_fp = sess.has_fp;
	}
	if (!media.setup.p)
		media.setup = sess.setup;
	d->trickle = media.trickle || sess.trickle;
	d->ice_lite = media.ice_lite || sess.ice_lite;

	if (!media.ufrag.p || media.ufrag.n < 4 || media.ufrag.n > RTC_UFRAG_MAX ||
	    !is_ice_chars(media.ufrag)) {
		ret = rg_err_set(err, -EINVAL, "sdp: missing or bad a=ice-ufrag (4-256 ice-chars)");
		goto out;
	}
	if (!media.pwd.p || media.pwd.n < 22 || media.pwd.n > RTC_PWD_MAX ||
	    !is_ice_chars(media.pwd)) {
		ret = rg_err_set(err, -EINVAL, "sdp: missing or bad a=ice-pwd (22-256 ice-chars)");
		goto out;
	}
	copy_slice(d->ufrag, media.ufrag);
	copy_slice(d->pwd, media.pwd);
	if (!media.has_fp ||
	    !rtc_fingerprint_parse(d->fingerprint, media.fingerprint.p, media.fingerprint.n)) {
		ret = rg_err_set(err, -EINVAL, "sdp: missing or bad a=fingerprint:sha-256");
		goto out;
	}
	if (!media.setup.p)
		d->setup = RTC_SETUP_ACTPASS;	/* RFC 4145 default for an offer */
	else if (slice_eq(media.setup, "actpass"))
		d->setup = RTC_SETUP_ACTPASS;
	else if (slice_eq(media.setup, "active"))
		d->setup = RTC_SETUP_ACTIVE;
	else if (slice_eq(media.setup, "passive"))
		d->setup = RTC_SETUP_PASSIVE;
	else {
		ret = rg_err_set(err, -EINVAL, "sdp: a=setup must be actpass|active|passive, got '%.*s'",
				 (int)(media.setup.n > 16 ? 16 : media.setup.n), media.setup.p);
		goto out;
	}
	if (mid.p)
		copy_slice(d->mid, mid);
	else
		strcpy(d->mid, "0");
	if (!have_sctp_port)
		d->sctp_port = RTC_SCTP_PORT;
	*out = *d;
out:
	free(d);
	return ret;
}

char *rtc_sdp_format(const struct rtc_sdp *d, uint64_t session_id)
{
	static const char *const setup_names[] = {
		[RTC_SETUP_NONE] = "actpass", [RTC_SETUP_ACTPASS] = "actpass",
		[RTC_SETUP_ACTIVE] = "active", [RTC_SETUP_PASSIVE] = "passive",
	};
	char fp[RTC_FP_LEN * 3], cand[RTC_CAND_STR_MAX + 1], mline[64];
	size_t cap = 1024 + d->n_cands * (RTC_CAND_STR_MAX + 8) + 2 * RTC_MID_MAX + RTC_UFRAG_MAX +
		     RTC_PWD_MAX;
	char *buf = malloc(cap), *p = buf;
	int n;

	if (!buf)
		return NULL;
	rtc_fingerprint_format(fp, d->fingerprint);
	if (d->legacy)
		snprintf(mline, sizeof(mline), "m=application 9 DTLS/SCTP %u\r\n", d->sctp_port);
	else
		snprintf(mline, sizeof(mline), "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
	n = snprintf(p, cap,
		     "v=0\r\n"
		     "o=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\n"
		     "s=-\r\n"
		     "t=0 0\r\n"
		     "a=group:BUNDLE %s\r\n"
		     "%s"
		     "c=IN IP4 0.0.0.0\r\n"
		     "a=ice-ufrag:%s\r\n"
		     "a=ice-pwd:%s\r\n"
		     "a=ice-options:trickle\r\n"
		     "a=fingerprint:sha-256 %s\r\n"
		     "a=setup:%s\r\n"
		     "a=mid:%s\r\n"
		     "%s%u%s\r\n"
		     "a=max-message-size:%" PRIu32 "\r\n",
		     session_id & INT64_MAX, d->mid,
		     mline,
		     d->ufrag, d->pwd, fp, setup_names[d->setup], d->mid,
		     d->legacy ? "a=sctpmap:" : "a=sctp-port:", d->sctp_port,
		     d->legacy ? " webrtc-datachannel 65535" : "", d->max_message_size);
	if (n < 0 || (size_t)n >= cap)
		goto fail;
	p += n;
	cap -= (size_t)n;
	if (d->rg_crc32c_offload) {
		n = snprintf(p, cap, "a=x-rg-crc32c-offload\r\n");
		if (n < 0 || (size_t)n >= cap)
			goto fail;
		p += n;
		cap -= (size_t)n;
	}
	if (d->rg_pmtu_probe) {
		n = snprintf(p, cap, "a=x-rg-pmtu-probe\r\n");
		if (n < 0 || (size_t)n >= cap)
			goto fail;
		p += n;
		cap -= (size_t)n;
	}
	if (d->rg_wg_direct) {
		n = snprintf(p, cap, "a=x-rg-wg-direct\r\n");
		if (n < 0 || (size_t)n >= cap)
			goto fail;
		p += n;
		cap -= (size_t)n;
	}
	for (size_t i = 0; i < d->n_cands; i++) {
		if (rtc_cand_format(cand, sizeof(cand), &d->cands[i]) < 0)
			continue;
		n = snprintf(p, cap, "a=%s\r\n", cand);
		if (n < 0 || (size_t)n >= cap)
			goto fail;
		p += n;
		cap -= (size_t)n;
	}
	if (d->end_of_candidates) {
		n = snprintf(p, cap, "a=end-of-candidates\r\n");
		if (n < 0 || (size_t)n >= cap)
			goto fail;
	}
	return buf;
fail:
	free(buf);
	return NULL;
}
