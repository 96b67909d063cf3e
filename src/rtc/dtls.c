/* DTLS 1.2 over ICE (RFC 8261 via RFC 8842): OpenSSL with memory BIOs, driven from the peer's
 * GLib loop. One self-signed ECDSA P-256 certificate per process (ref-counted with the SSL_CTX);
 * its SHA-256 fingerprint goes into our SDP and the remote certificate must match the remote
 * SDP's a=fingerprint. The read BIO gets one datagram at a time, so records keep their datagram
 * boundaries; the write BIO collects records, and rtc_dtls_flush() cuts it at record
 * boundaries into one datagram per record and hands them down in one batch (ops.send). peer.c
 * owns the layer (struct rtc_dtls, dtls.h); records and events go up through the ops. */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "rtc/dtls.h"
#include "util/err.h"
#include "util/log.h"

enum { DTLS_CERT_DAYS = 30, DTLS_REC_HDR = 13 };

static struct {
	unsigned refs;
	SSL_CTX *ctx;
	uint8_t fp[RTC_FP_LEN];
} g_dtls;

/* Browsers present self-signed certificates; trust comes from the fingerprint in the SDP,
 * checked after the handshake (dtls_verify). */
static int accept_any_cert(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

static int make_cert(EVP_PKEY **out_key, X509 **out_cert)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = NULL;
	uint8_t serial[8];
	BIGNUM *bn = NULL;

	if (!key || !x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -86400) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * DTLS_CERT_DAYS) ||
	    !X509_set_pubkey(x, key))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"riftgate",
					-1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_sign(x, key, EVP_sha256()))
		goto fail;
	BN_free(bn);
	*out_key = key;
	*out_cert = x;
	return 0;
fail:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	return -ENOMEM;
}

int rtc_dtls_global_ref(struct rg_err *err)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	SSL_CTX *ctx = NULL;
	unsigned int fplen = 0;

	if (g_dtls.refs++)
		return 0;
	if (make_cert(&key, &cert) < 0)
		goto fail;
	ctx = SSL_CTX_new(DTLS_method());
	if (!ctx || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
	    SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
					 "ECDHE-ECDSA-AES256-GCM-SHA384:"
					 "ECDHE-ECDSA-CHACHA20-POLY1305") != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1 ||
	    /* No SRTP flows here, but pion refuses a DTLS session without a negotiated SRTP
	     * profile, and browsers offer use_srtp anyway: negotiating one costs nothing. */
	    SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0 ||
	    X509_digest(cert, EVP_sha256(), g_dtls.fp, &fplen) != 1 || fplen != RTC_FP_LEN)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_cert);
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_read_ahead(ctx, 1);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_dtls.ctx = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	g_dtls.refs--;
	ERR_clear_error();
	return rg_err_set(err, -ENOMEM, "dtls: cannot create certificate or SSL context");
}

void rtc_dtls_global_unref(void)
{
	if (!g_dtls.refs || --g_dtls.refs)
		return;
	SSL_CTX_free(g_dtls.ctx);
	g_dtls.ctx = NULL;
}

void rtc_dtls_local_fingerprint(uint8_t fp[static RTC_FP_LEN])
{
	memcpy(fp, g_dtls.fp, RTC_FP_LEN);
}

static void arm_timer(struct rtc_dtls *d);

static gboolean on_timer(gpointer data)
{
	struct rtc_dtls *d = data;

	g_source_unref(d->timer);
	d->timer = NULL;
	if (d->ssl && !d->connected) {
		if (DTLSv1_handle_timeout(d->ssl) < 0) {
			d->ops->failed(d->opaque, "DTLS handshake timed out");
			return G_SOURCE_REMOVE;
		}
		rtc_dtls_flush(d);
		arm_timer(d);
	}
	return G_SOURCE_REMOVE;
}

static void arm_timer(struct rtc_dtls *d)
{
	struct timeval tv;
	guint ms;

	if (d->timer) {
		g_source_destroy(d->timer);
		g_source_unref(d->timer);
		d->timer = NULL;
	}
	if (!d->ssl || d->connected || DTLSv1_get_timeout(d->ssl, &tv) != 1)
		return;
	ms = (guint)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
	d->timer = g_timeout_source_new(ms ? ms : 1);
	g_source_set_callback(d->timer, on_timer, d, NULL);
	g_source_attach(d->timer, d->ctx);
}

void rtc_dtls_init(struct rtc_dtls *d, GMainContext *ctx, const char *log_id,
		   const struct rtc_dtls_ops *ops, void *opaque)
{
	d->ctx = ctx;
	d->log_id = log_id;
	d->ops = ops;
	d->opaque = opaque;
	d->rec = g_malloc(RTC_REC_MAX);
	d->out = g_malloc(RTC_OUT_BUF);
}

int rtc_dtls_start(struct rtc_dtls *d, bool client, unsigned mtu)
{
	if (d->ssl)
		return 0;
	d->ssl = SSL_new(g_dtls.ctx);
	d->rbio = BIO_new(BIO_s_mem());
	d->wbio = BIO_new(BIO_s_mem());
	if (!d->ssl || !d->rbio || !d->wbio) {
		BIO_free(d->rbio);
		BIO_free(d->wbio);
		SSL_free(d->ssl);
		d->ssl = NULL;
		d->rbio = d->wbio = NULL;
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(d->rbio, -1);
	BIO_set_mem_eof_return(d->wbio, -1);
	SSL_set_bio(d->ssl, d->rbio, d->wbio);
	/* No MTU query on a memory BIO: the datagram limit is ours, the path MTU. */
	SSL_set_mtu(d->ssl, mtu);
	DTLS_set_link_mtu(d->ssl, mtu);
	d->client = client;
	if (client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	return 0;
}

void rtc_dtls_clear(struct rtc_dtls *d)
{
	if (d->timer) {
		g_source_destroy(d->timer);
		g_source_unref(d->timer);
	}
	SSL_free(d->ssl);	/* frees both BIOs */
	g_free(d->rec);
	g_free(d->out);
	memset(d, 0, sizeof(*d));
}

static bool verify_fingerprint(struct rtc_dtls *d)
{
	X509 *cert = SSL_get1_peer_certificate(d->ssl);
	uint8_t fp[RTC_FP_LEN];
	unsigned int n = 0;
	bool ok;

	if (!cert)
		return false;
	ok = X509_digest(cert, EVP_sha256(), fp, &n) == 1 && n == RTC_FP_LEN && d->have_fp &&
	     CRYPTO_memcmp(fp, d->remote_fp, RTC_FP_LEN) == 0;
	X509_free(cert);
	return ok;
}

/* A fatal OpenSSL error: logged with OpenSSL's reason, then reported up as what. */
static void fail_ssl(struct rtc_dtls *d, const char *what)
{
	char buf[160];

	ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
	ERR_clear_error();
	rg_log(RG_LOG_WARN, "%s: %s: %s", d->log_id, what, buf);
	d->ops->failed(d->opaque, what);
}

/* Advances the handshake; returns true once it is complete and verified. */
static bool handshake(struct rtc_dtls *d)
{
	int r = SSL_do_handshake(d->ssl);

	if (r == 1) {
		if (!verify_fingerprint(d)) {
			rg_log(RG_LOG_WARN, "%s: DTLS: remote certificate does not match a=fingerprint",
			       d->log_id);
			d->ops->failed(d->opaque, "DTLS fingerprint mismatch");
			return false;
		}
		d->connected = true;
		arm_timer(d);
		SRTP_PROTECTION_PROFILE *srtp = SSL_get_selected_srtp_profile(d->ssl);

		rg_log(RG_LOG_INFO, "%s: DTLS connected (%s, %s, srtp %s)", d->log_id,
		       d->client ? "client" : "server", SSL_get_cipher_name(d->ssl),
		       srtp ? srtp->name : "none");
		return true;
	}
	switch (SSL_get_error(d->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		arm_timer(d);
		return false;
	default:
		fail_ssl(d, "DTLS handshake failed");
		return false;
	}
}

void rtc_dtls_kick(struct rtc_dtls *d)
{
	if (!d->ssl || d->connected || d->started)
		return;
	d->started = true;
	if (d->client) {
		handshake(d);
		rtc_dtls_flush(d);
	}
}

/* Copies the records of epoch ≥ 1 from in to out; returns the bytes kept. */
static size_t strip_epoch0(uint8_t *out, const uint8_t *in, size_t len)
{
	size_t off = 0, kept = 0;

	while (len - off >= DTLS_REC_HDR) {
		size_t l = DTLS_REC_HDR + ((size_t)in[off + 11] << 8 | in[off + 12]);

		if (l > len - off)
			break;	/* truncated record: drop it and what follows */
		if (in[off + 3] || in[off + 4]) {
			memmove(out + kept, in + off, l);
			kept += l;
		}
		off += l;
	}
	return kept;
}

bool rtc_dtls_input(struct rtc_dtls *d, const uint8_t *buf, size_t len)
{
	if (!d->ssl || len == 0 || len > INT_MAX)
		return false;
	/* After the handshake only epoch ≥ 1 is ours: stray or spoofed epoch-0 records (e.g. a
	 * new ClientHello) are cut out so they cannot disturb the session. A retransmitted final
	 * flight keeps its epoch-1 Finished, which makes OpenSSL resend our last flight. */
	if (d->connected) {
		len = strip_epoch0(d->out, buf, len);
		if (!len)
			return false;
		buf = d->out;	/* free here: only read until BIO_write copies it below */
	}
	/* A memory BIO is a byte stream; one datagram goes in and is consumed before the next. */
	if (BIO_ctrl_pending(d->rbio))
		(void)BIO_reset(d->rbio);
	if (BIO_write(d->rbio, buf, (int)len) != (int)len)
		return false;
	if (!d->connected) {
		d->started = true;
		if (!handshake(d)) {
			rtc_dtls_flush(d);
			return false;
		}
		if (d->test_lose_final_flight) {	/* tests: as if the network lost it */
			d->test_lose_final_flight = false;
			(void)BIO_reset(d->wbio);
		}
		rtc_dtls_flush(d);
		if (!d->ops->up(d->opaque))
			return false;
	}
	for (;;) {
		int n = SSL_read(d->ssl, d->rec, RTC_REC_MAX);

		if (n > 0) {
			if (!d->ops->record(d->opaque, d->rec, (size_t)n) || !d->ssl)
				return false;
			/* One record per datagram is the rule: when nothing is left (read-ahead
			 * buffer and BIO both empty), skip the SSL_read that would only say
			 * WANT_READ. */
			if (!SSL_has_pending(d->ssl) && !BIO_ctrl_pending(d->rbio))
				break;
			continue;
		}
		switch (SSL_get_error(d->ssl, n)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			break;
		case SSL_ERROR_ZERO_RETURN:
			rg_log(RG_LOG_INFO, "%s: DTLS close_notify from the remote side", d->log_id);
			d->ops->closed(d->opaque);
			return false;
		default:
			/* Records that fail to authenticate are dropped silently by OpenSSL; what
			 * lands here is fatal (e.g. an alert). */
			fail_ssl(d, "DTLS read error");
			return false;
		}
		break;
	}
	return true;
}

int rtc_dtls_write(struct rtc_dtls *d, const void *buf, size_t len)
{
	int n;

	if (!d->connected || len > INT_MAX)
		return -ENOTCONN;
	n = SSL_write(d->ssl, buf, (int)len);
	if (n != (int)len) {
		ERR_clear_error();
		return -EIO;
	}
	if (BIO_ctrl_pending(d->wbio) >= RTC_OUT_FLUSH_AT)
		rtc_dtls_flush(d);
	else
		d->ops->flush_soon(d->opaque);
	return 0;
}

size_t rtc_dtls_pending(const struct rtc_dtls *d)
{
	return d->wbio ? BIO_ctrl_pending(d->wbio) : 0;
}

static size_t rec_len(const uint8_t *b, size_t n)
{
	if (n < DTLS_REC_HDR)
		return n;
	size_t l = DTLS_REC_HDR + ((size_t)b[11] << 8 | b[12]);
	return l > n ? n : l;
}

void rtc_dtls_flush(struct rtc_dtls *d)
{
	NiceOutputMessage msgs[RTC_OUT_BATCH];
	GOutputVector vecs[RTC_OUT_BATCH];
	char *data;
	long avail;

	/* Before ICE has a pair, libnice cannot send: keep the records queued in the BIO;
	 * rtc_dtls_transport_up flushes them. */
	if (!d->wbio || !d->can_send)
		return;
	d->rx_unflushed = 0;
	while ((avail = BIO_get_mem_data(d->wbio, &data)) > 0) {
		const uint8_t *src = (const uint8_t *)data;
		size_t take = 0, n_msgs = 0, off = 0;

		/* Take whole records that fit our buffer (at least one), then copy them out. */
		while (take < (size_t)avail) {
			size_t l = rec_len(src + take, (size_t)avail - take);

			if (take && take + l > RTC_OUT_BUF)
				break;
			if (l > RTC_OUT_BUF)
				l = RTC_OUT_BUF;
			take += l;
		}
		if (BIO_read(d->wbio, d->out, (int)take) != (int)take)
			return;
		/* One record per datagram. Packing several into one datagram is legal DTLS, but
		 * aiortc reads one record per datagram and falls behind. */
		while (off < take) {
			size_t start = off, dlen = rec_len(d->out + off, take - off);

			off += dlen;
			vecs[n_msgs].buffer = d->out + start;
			vecs[n_msgs].size = dlen;
			msgs[n_msgs].buffers = &vecs[n_msgs];
			msgs[n_msgs].n_buffers = 1;
			if (++n_msgs == RTC_OUT_BATCH) {
				d->ops->send(d->opaque, msgs, (unsigned)n_msgs);
				n_msgs = 0;
			}
		}
		if (n_msgs)
			d->ops->send(d->opaque, msgs, (unsigned)n_msgs);
	}
}

bool rtc_dtls_rx_flush_due(struct rtc_dtls *d)
{
	return ++d->rx_unflushed >= RTC_RX_FLUSH_EVERY;
}

void rtc_dtls_transport_up(struct rtc_dtls *d)
{
	d->can_send = true;
	rtc_dtls_flush(d);
}

void rtc_dtls_shutdown(struct rtc_dtls *d)
{
	if (!d->ssl || !d->connected)
		return;
	SSL_shutdown(d->ssl);
	ERR_clear_error();
	rtc_dtls_flush(d);
}

bool rtc_dtls_started(const struct rtc_dtls *d)
{
	return d->ssl != NULL;
}

bool rtc_dtls_up(const struct rtc_dtls *d)
{
	return d->connected;
}

bool rtc_dtls_is_client(const struct rtc_dtls *d)
{
	return d->client;
}

void rtc_dtls_set_remote_fp(struct rtc_dtls *d, const uint8_t fp[static RTC_FP_LEN])
{
	memcpy(d->remote_fp, fp, RTC_FP_LEN);
	d->have_fp = true;
}

void rtc_dtls_set_mtu(struct rtc_dtls *d, unsigned mtu)
{
	if (!d->ssl)
		return;
	SSL_set_mtu(d->ssl, mtu);
	DTLS_set_link_mtu(d->ssl, mtu);
}
