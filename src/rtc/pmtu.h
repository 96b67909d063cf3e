/* Path-MTU probing between two riftgate peers (DESIGN §Performance: "probe larger path MTUs"):
 * the wire format of probe/ack datagrams and the sender's state machine. Pure code: no GLib, no
 * I/O, time comes in as an argument, so the tests drive it with a fake clock. probe.c is the
 * glue that sends what this decides, on the peer's selected ICE pair.
 *
 * A probe is one UDP datagram of exactly the size under test, sent beside DTLS on the selected
 * pair (not inside it). Its first byte, 12, lies in the range 4..15 that RFC 7983 (and RFC 9443)
 * leave unassigned, so peers that do not know it (browsers, pion, aiortc, older riftgate) drop
 * it like any other unknown datagram. The receiver answers with a 16-byte ack that echoes the
 * size and the sender's random token, so an ack is never larger than the probe it answers (no
 * amplification), and an off-path attacker cannot forge an ack without the token.
 *
 *   0      1      2..3         4..7     8..15      16..
 *   type   kind   size (BE)    "rgPM"   token      zero padding up to size (probe only)
 *
 * The sender sends every candidate size at once (one RTT for the whole search), resends the
 * ones that were not acknowledged a few times, then tries RTC_PMTU_MAX_CANDS sizes spread
 * between the largest acknowledged and the smallest lost one the same way (one more RTT, for
 * links like 1300 that sit between the usual sizes), and settles on the largest acknowledged. */
#ifndef RG_RTC_PMTU_H
#define RG_RTC_PMTU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rtc_pmtu_wire {
	RTC_PMTU_TYPE = 12,		/* first byte; RFC 7983 leaves 4..15 unused */
	RTC_PMTU_KIND_PROBE = 1,
	RTC_PMTU_KIND_ACK = 2,
	RTC_PMTU_HDR_LEN = 16,		/* a whole ack */
	RTC_PMTU_TOKEN_LEN = 8,
};

enum rtc_pmtu_limits {
	RTC_PMTU_FLOOR = 1200,		/* UDP payload every WebRTC path must carry */
	RTC_PMTU_CEIL = 9000,		/* largest path MTU we probe or accept in config */
	RTC_PMTU_MAX_CANDS = 6,		/* sizes above the floor, per search */
	RTC_PMTU_ROUNDS = 3,		/* sends of each unanswered size before concluding */
	RTC_PMTU_FIRST_WAIT_MS = 250,	/* round timeout while nothing has answered */
	RTC_PMTU_MIN_WAIT_MS = 50,	/* round timeout floor once the RTT is known */
	RTC_PMTU_CONFIRM_MS = 10000,	/* a probe of the size in use (while data flows): black hole? */
	RTC_PMTU_CONFIRM_MISSES = 3,	/* unanswered confirmations that start a search down */
	RTC_PMTU_REFINE_MIN = 16,	/* refine when the gap best..first failure is wider */
};

/* Events returned by the state machine (bit mask). */
enum rtc_pmtu_event {
	RTC_PMTU_EV_CHANGED = 1,	/* m->mtu changed */
	RTC_PMTU_EV_DONE = 2,		/* a search ended (m->answered says whether anyone acked) */
};

enum rtc_pmtu_phase { RTC_PMTU_IDLE = 0, RTC_PMTU_SEARCH, RTC_PMTU_SETTLED };

struct rtc_pmtu_msg {
	uint8_t kind;
	uint16_t size;
	uint8_t token[RTC_PMTU_TOKEN_LEN];
};

struct rtc_pmtu {
	enum rtc_pmtu_phase phase;
	uint16_t mtu;			/* path MTU in use: UDP payload bytes */
	uint16_t ceiling;		/* a search never settles above it (0 = RTC_PMTU_CEIL) */
	uint16_t cands[RTC_PMTU_MAX_CANDS + 1];	/* this search's sizes, descending, floor last */
	unsigned n_cands;
	bool acked[RTC_PMTU_MAX_CANDS + 1];
	unsigned round;			/* rounds sent in this search (or its refinement) */
	bool refined;			/* the refinement round set has been built */
	bool answered;			/* any ack in this search (or ever, once settled) */
	uint64_t sent_ns;		/* when the first round went out */
	uint64_t rtt_ns;		/* first ack's delay, 0 = none yet */
	uint64_t deadline_ns;		/* next rtc_pmtu_poll action, UINT64_MAX = none */
	uint8_t token[RTC_PMTU_TOKEN_LEN];
	uint32_t confirm_ms;		/* 0 = RTC_PMTU_CONFIRM_MS (tests shorten it) */
	bool confirm_out;		/* a confirmation awaits its ack */
	unsigned misses;		/* confirmations unanswered in a row */
};

/* Wire format. encode_probe fills buf[0..size) (size >= RTC_PMTU_HDR_LEN); encode_ack fills
 * RTC_PMTU_HDR_LEN bytes. parse returns false for anything that is not a well-formed probe
 * (length == its size field) or ack (length == RTC_PMTU_HDR_LEN). */
void rtc_pmtu_encode_probe(uint8_t *buf, uint16_t size, const uint8_t token[RTC_PMTU_TOKEN_LEN]);
void rtc_pmtu_encode_ack(uint8_t buf[RTC_PMTU_HDR_LEN], uint16_t size,
			 const uint8_t token[RTC_PMTU_TOKEN_LEN]);
bool rtc_pmtu_parse(const uint8_t *buf, size_t len, struct rtc_pmtu_msg *out);

/* Largest UDP payload a link of link_mtu bytes carries (IP + UDP headers off), capped at
 * RTC_PMTU_CEIL; 0 when it is below the floor. */
uint16_t rtc_pmtu_link_max(unsigned link_mtu, bool ipv6);
/* The sizes a search tries below max (max itself, then the usual Internet/LAN sizes 1472, 1452,
 * 1400, 1280, all above the floor), descending. Returns how many (<= RTC_PMTU_MAX_CANDS). */
unsigned rtc_pmtu_candidates(uint16_t max, uint16_t out[RTC_PMTU_MAX_CANDS]);

/* Starts at the floor, idle. */
void rtc_pmtu_init(struct rtc_pmtu *m);
/* Starts a search of the sizes up to min(max, ceiling) with a fresh token; the first round is
 * due at once (rtc_pmtu_poll). A search never lowers m->mtu until it ends, and then only to the
 * largest size acknowledged (the floor when none was). */
void rtc_pmtu_start(struct rtc_pmtu *m, uint16_t max, uint64_t now_ns,
		    const uint8_t token[RTC_PMTU_TOKEN_LEN]);
/* Time-driven work, when now_ns >= m->deadline_ns: writes the sizes to send now into sizes[]
 * (*n_sizes, at most RTC_PMTU_MAX_CANDS + 1) and returns events. */
int rtc_pmtu_poll(struct rtc_pmtu *m, uint64_t now_ns, uint16_t *sizes, unsigned *n_sizes);
/* Settled: the confirmation due now is not needed (the pair carried no data since the last
 * one); the next is due a confirmation interval from now_ns. Misses so far stay counted. */
void rtc_pmtu_postpone(struct rtc_pmtu *m, uint64_t now_ns);
/* An ack arrived. Returns events (0 for a stale or forged ack). */
int rtc_pmtu_on_ack(struct rtc_pmtu *m, const struct rtc_pmtu_msg *ack, uint64_t now_ns);

#endif
