/* The DTLS layer (dtls.c): DTLS 1.2 with OpenSSL memory BIOs, one session per peer, records
 * carried one per datagram. Internal to src/rtc. peer.c owns a struct rtc_dtls (embedded in
 * struct rtc_peer) and drives it with the calls below; the layer hands datagrams down and
 * reports up through struct rtc_dtls_ops, and knows nothing of the other layers or of the peer.
 * Everything runs on the GMainContext given to rtc_dtls_init. */
#ifndef RG_RTC_DTLS_H
#define RG_RTC_DTLS_H

#include <glib.h>
#include <nice/agent.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "rtc/limits.h"
#include "rtc/sdp.h"

struct rg_err;

/* What DTLS asks of and tells the layers around it; all on the layer's context. */
struct rtc_dtls_ops {
	/* Datagrams to send, one record each (the ICE layer's send). */
	void (*send)(void *opaque, NiceOutputMessage *msgs, unsigned n);
	/* Records were queued: flush soon (from an idle source), not now. */
	void (*flush_soon)(void *opaque);
	/* The handshake is done and the remote certificate matches a=fingerprint. Returns false
	 * when the receiver went down (nothing more is read). */
	bool (*up)(void *opaque);
	/* One decrypted record (an SCTP packet; the receiver may modify it). Returns false when
	 * the receiver went down. */
	bool (*record)(void *opaque, uint8_t *buf, size_t len);
	/* close_notify from the remote side. */
	void (*closed)(void *opaque);
	/* Fatal: handshake failed or timed out, fingerprint mismatch, read error. */
	void (*failed)(void *opaque, const char *why);
};

struct rtc_dtls {
	GMainContext *ctx;		/* not owned: the peer holds a ref */
	const char *log_id;		/* not owned: the peer's */
	const struct rtc_dtls_ops *ops;	/* not owned, static */
	void *opaque;			/* ops' argument, not owned */
	SSL *ssl;			/* owned; NULL until the role is known */
	BIO *rbio, *wbio;		/* owned by ssl */
	bool client;
	bool started;
	bool connected;
	bool can_send;			/* ICE connected: datagrams can go out */
	bool have_fp;
	uint8_t remote_fp[RTC_FP_LEN];
	GSource *timer;			/* owned; retransmission timer */
	unsigned rx_unflushed;		/* datagrams received since the last rtc_dtls_flush */
	bool test_lose_final_flight;	/* tests only: discard what the completing step sends */
	/* Owned, RTC_REC_MAX and RTC_OUT_BUF bytes, not zeroed: an idle peer only ever writes
	 * the first pages, and the kernel maps no others (embedded and zeroed with the peer,
	 * the 114 KiB were resident for every peer). */
	uint8_t *rec;			/* one decrypted record */
	uint8_t *out;			/* ciphertext on its way to ICE */
};

/* The process-wide SSL_CTX and certificate (ref-counted). */
int rtc_dtls_global_ref(struct rg_err *err);
void rtc_dtls_global_unref(void);
void rtc_dtls_local_fingerprint(uint8_t fp[static RTC_FP_LEN]);

/* Sets the layer up without a session (the role comes with the descriptions). ctx, log_id,
 * ops and opaque must outlive it. */
void rtc_dtls_init(struct rtc_dtls *d, GMainContext *ctx, const char *log_id,
		   const struct rtc_dtls_ops *ops, void *opaque);
/* Safe on a zeroed or half-built layer; no callback runs during or after it. */
void rtc_dtls_clear(struct rtc_dtls *d);
/* Creates the session in its role; mtu is the largest datagram (the path MTU in use). */
int rtc_dtls_start(struct rtc_dtls *d, bool client, unsigned mtu);
/* One received datagram (RFC 7983: first byte 20..63). Returns true when records went up
 * (ops.record) and the layer above should process what they queued. */
bool rtc_dtls_input(struct rtc_dtls *d, const uint8_t *buf, size_t len);
/* Encrypts one SCTP packet as one record; queued until rtc_dtls_flush. */
int rtc_dtls_write(struct rtc_dtls *d, const void *buf, size_t len);
/* Sends what is queued (ops.send), once ICE connected. */
void rtc_dtls_flush(struct rtc_dtls *d);
size_t rtc_dtls_pending(const struct rtc_dtls *d);
/* A datagram arrived while records wait to go out: true when RTC_RX_FLUSH_EVERY did since the
 * last flush (flush now rather than at idle). */
bool rtc_dtls_rx_flush_due(struct rtc_dtls *d);
void rtc_dtls_shutdown(struct rtc_dtls *d);
/* ICE connected: queued records may go out (and do now). */
void rtc_dtls_transport_up(struct rtc_dtls *d);
/* Starts the client handshake once ICE is up (no-op for the server or when running). */
void rtc_dtls_kick(struct rtc_dtls *d);
/* What the layers above may know of DTLS, and what they tell it. */
bool rtc_dtls_started(const struct rtc_dtls *d);	/* the role is known: a session exists */
bool rtc_dtls_up(const struct rtc_dtls *d);		/* handshake done, fingerprint checked */
bool rtc_dtls_is_client(const struct rtc_dtls *d);
void rtc_dtls_set_remote_fp(struct rtc_dtls *d, const uint8_t fp[static RTC_FP_LEN]);
void rtc_dtls_set_mtu(struct rtc_dtls *d, unsigned mtu);

#endif
