/* Sizes shared by the layers of src/rtc (ice.c, dtls.c, sctp.c, probe.c, peer.c): wire
 * overheads that make one WireGuard datagram one SCTP packet, one DTLS record and one UDP
 * datagram (DESIGN §Data path), and the per-layer buffers and timers. Internal to src/rtc. */
#ifndef RG_RTC_LIMITS_H
#define RG_RTC_LIMITS_H

enum rtc_peer_limits {
	RTC_DTLS_OVERHEAD = 37,		/* record header 13 + explicit nonce 8 + GCM tag 16 */
	RTC_DTLS_REC_HDR = 13,
	RTC_SCTP_DATA_OVERHEAD = 28,	/* common header 12 + DATA chunk header 16 */
	/* usrsctp (AF_CONN) leaves the 12-byte common header out of spp_pathmtu: its packets,
	 * bundles included, reach spp_pathmtu + 12. */
	RTC_SCTP_COMMON_HDR = 12,
	RTC_REC_MAX = 16384 + 2048,	/* DTLS plaintext limit plus slack */
	RTC_OUT_BATCH = 64,		/* datagrams per nice send call */
	RTC_OUT_BUF = 96 * 1024,	/* ciphertext drained from the write BIO per round */
	RTC_OUT_FLUSH_AT = 48 * 1024,	/* flush inline once this much ciphertext is queued */
	RTC_RX_FLUSH_EVERY = 32,	/* received datagrams between inline flushes of replies */
	RTC_PENDING_CANDS = 64,		/* remote candidates kept before the remote description */
	RTC_EARLY_SCTP_MAX = 8,		/* SCTP packets kept while the path-MTU search holds SCTP */
	RTC_SCTP_SNDBUF = 2 * 1024 * 1024,
	RTC_SCTP_RCVBUF = 2 * 1024 * 1024,
	RTC_SCTP_TIMER_MS = 10,
	RTC_SCTP_SACK_FREQ_RG = 8,	/* packets per SACK when the remote side is riftgate */
	/* Retransmission backoff capped at 2 s (RFC 4960 suggests 60): after an ICE restart the
	 * first queued DATA waits for the running T3 timer, so the cap bounds the stall once the
	 * new path works. The retransmission limits let the association outlive any silence rtc
	 * tolerates (2 × consent timeout); rtc, not SCTP, decides that a path is gone. */
	RTC_SCTP_RTO_INITIAL_MS = 1000,	/* RFC 6298's initial RTO; must not exceed the cap */
	RTC_SCTP_RTO_MAX_MS = 2000,
	RTC_SCTP_MAX_RXT = 64,
	RTC_UDP_SOCKBUF = 4 * 1024 * 1024,
	/* Our own receive on the selected pair's socket (ice.c, rx_*): datagrams per dispatch,
	 * and dispatches in a row after which it lets libnice's sources (consent timers, its own
	 * read) have one loop iteration. The buffer holds the largest UDP payload or GRO train. */
	RTC_RX_BATCH = 64,
	RTC_RX_YIELD_EVERY = 16,
	RTC_RX_BUF = 65536,
	/* While everything is idle the loop thread's timers may fire this much late, merged
	 * (sctp.c); consent checks then come every 4-7 s, which RTC_QUIET_SILENCE_MS allows. */
	RTC_IDLE_TIMER_SLACK_MS = 1000,
	/* libnice's consent checks (RFC 7675 §5.1: every 4-6 s, randomized) and the remote's own
	 * reach a live pair's socket at least this often (plus the idle slack above). With a consent timeout of
	 * RTC_QUIET_CONSENT_CHECKS of those intervals or more, the socket's last receive time
	 * tells a live idle pair from a dead one, and SCTP heartbeats are off (peer.c). */
	RTC_CONSENT_INTERVAL_MAX_MS = 6000,
	RTC_QUIET_CONSENT_CHECKS = 4,
	/* On such a quiet pair, nothing at all received for this long (ours answered every 4-6 s,
	 * the remote's arriving as often) means the path is gone, as an unanswered heartbeat did:
	 * reported like sending without hearing back (rtc_config.path_silence_ms). */
	RTC_QUIET_SILENCE_MS = RTC_CONSENT_INTERVAL_MAX_MS * 3 / 2,
};

#endif
