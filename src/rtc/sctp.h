/* The SCTP layer (sctp.c): one usrsctp AF_CONN association per peer, over DTLS. Internal to
 * src/rtc. peer.c owns a struct rtc_sctp (embedded in struct rtc_peer) and drives it with the
 * calls below; the layer hands packets down and reports up through struct rtc_sctp_ops, and
 * knows nothing of the other layers or of the peer. usrsctp is process-wide
 * (rtc_sctp_global_ref); everything runs on the GMainContext given to the first ref. */
#ifndef RG_RTC_SCTP_H
#define RG_RTC_SCTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtc/limits.h"
#include "rtc/rtc.h"

struct socket;	/* usrsctp */

/* What SCTP asks of and tells the layers around it. Never called from inside usrsctp except
 * output; the others run from rtc_sctp_drain, after usrsctp returned. */
struct rtc_sctp_ops {
	/* One SCTP packet to encrypt and send (DTLS); must not call back into this layer.
	 * Returns 0, or -1 to drop it. */
	int (*output)(void *opaque, const void *buf, size_t len);
	void (*up)(void *opaque);			/* COMM_UP */
	/* The association ended: lost (failed) or shut down by either side. */
	void (*down)(void *opaque, bool failed);
	/* One complete message (reassembled from partial deliveries); valid during the call. */
	void (*message)(void *opaque, uint16_t sid, uint32_t ppid, const uint8_t *data,
			size_t len);
	/* The remote side reset its outgoing stream sid (closed that direction). */
	void (*stream_reset)(void *opaque, uint16_t sid);
	/* Space in the send buffer again after a send returned -EAGAIN. */
	void (*writable)(void *opaque);
};

struct rtc_sctp_rx {
	void *data;			/* malloc'd by usrsctp, freed with free() */
	size_t len;
	uint16_t sid;
	uint32_t ppid;
	int flags;
};

struct rtc_sctp {
	const char *log_id;		/* not owned: the peer's */
	const struct rtc_sctp_ops *ops;	/* not owned, static */
	void *opaque;			/* ops' argument, not owned */
	uint32_t id;			/* what usrsctp knows us by (sconn_addr, ulp_info) */
	struct socket *sock;		/* owned; NULL until DTLS is up */
	uint32_t hb_interval_ms;
	bool hb_off;			/* rtc_sctp_set_heartbeat(false) */
	uint16_t streams;		/* each way (rtc_sctp_set_streams); 0 = RTC_MAX_CHANNELS */
	bool up;			/* COMM_UP seen */
	bool crc_offload;		/* both ends are riftgate: skip CRC32c */
	bool remote_rg;			/* the remote SDP says riftgate (a=x-rg-crc32c-offload) */
	bool writable;			/* send_cb fired since the last drain */
	bool blocked;			/* a send got EAGAIN since the last writable */
	bool draining;
	bool drain_queued;		/* our id is in sctp.c's list for the next tick */
	bool corked;			/* SCTP_NODELAY off during a run of RTC_SEND_MORE sends */
	uint16_t remote_port;
	GArray *rx;			/* struct rtc_sctp_rx, filled by receive_cb, drained after */
	GByteArray *reasm;		/* partial-delivery reassembly */
	GArray *resets;			/* uint16_t streams to reset (close) */
};

int rtc_sctp_global_ref(GMainContext *ctx);
void rtc_sctp_global_unref(void);
/* Registers the layer with usrsctp (no socket yet). Heartbeats go every consent_timeout_ms / 4.
 * log_id, ops and opaque must outlive it. Needs rtc_sctp_global_ref. */
int rtc_sctp_init(struct rtc_sctp *s, const char *log_id, unsigned consent_timeout_ms,
		  const struct rtc_sctp_ops *ops, void *opaque);
/* Safe on a zeroed or half-built layer; no callback runs during or after it. */
void rtc_sctp_clear(struct rtc_sctp *s);
/* Heartbeats on (the default) or off, now or from rtc_sctp_start on. Off when something else
 * proves an idle path alive (peer.c: the socket's receive time of ICE consent traffic). */
int rtc_sctp_set_heartbeat(struct rtc_sctp *s, bool on);
/* Creates the socket, sized for path_mtu (UDP payload bytes), and connects. */
int rtc_sctp_start(struct rtc_sctp *s, unsigned path_mtu);
/* One decrypted DTLS record; the CRC32c is checked here unless both ends skip it. Dropped
 * before rtc_sctp_start. The caller then runs rtc_sctp_drain. */
void rtc_sctp_input(struct rtc_sctp *s, uint8_t *buf, size_t len);
/* Processes what usrsctp queued during the last call into it (messages, notifications). */
void rtc_sctp_drain(struct rtc_sctp *s);
/* peer.c's tick: whether every peer is connected with no ICE restart under way. While it is
 * and SCTP and the direct paths are idle, the loop thread's timers may fire up to 1 s late,
 * merged (sctp.c). */
void rtc_sctp_set_settled(bool settled);
/* Direct-path traffic (WireGuard past SCTP) went out or came in: keeps the default timer
 * slack while it flows, as DATA does. Per batch; a counter. */
void rtc_sctp_note_traffic(void);
/* more: another send follows at once; SCTP may hold a packet that is not full (Nagle on). */
int rtc_sctp_send(struct rtc_sctp *s, uint16_t sid, uint32_t ppid, bool ordered, int max_rtx,
		  const void *data, size_t len, bool more);
int rtc_sctp_reset_stream(struct rtc_sctp *s, uint16_t sid);
void rtc_sctp_shutdown(struct rtc_sctp *s);
size_t rtc_sctp_buffered(const struct rtc_sctp *s);
/* Applies a new path MTU to the running association (usrsctp only honours a decrease); before
 * rtc_sctp_start it does nothing (start takes the size). */
int rtc_sctp_set_path_mtu(struct rtc_sctp *s, unsigned path_mtu);
/* Smoothed RTT of the association, -1 when unknown. */
int rtc_sctp_rtt_ms(const struct rtc_sctp *s);
/* What the remote description says (before rtc_sctp_start): its SCTP port; whether it is
 * riftgate (a=x-rg-crc32c-offload), and then whether both skip the CRC32c. */
/* SCTP streams each way, before rtc_sctp_start (0 = RTC_MAX_CHANNELS). */
void rtc_sctp_set_streams(struct rtc_sctp *s, uint16_t n);
void rtc_sctp_set_remote_port(struct rtc_sctp *s, uint16_t port);
void rtc_sctp_set_remote_rg(struct rtc_sctp *s, bool remote_rg, bool crc_offload);
bool rtc_sctp_remote_rg(const struct rtc_sctp *s);
bool rtc_sctp_started(const struct rtc_sctp *s);	/* our socket exists */
bool rtc_sctp_is_up(const struct rtc_sctp *s);		/* COMM_UP seen */

#endif
