/* libFuzzer target: bytes injected into a connected rtc_peer. Two peers connect once over
 * loopback (ICE, DTLS, SCTP, a channel each way); then each input is fed, by its first byte, as
 *   0: a UDP datagram from the remote side (DTLS record layer, must be dropped cleanly),
 *   1: a decrypted SCTP packet, with the real association's ports and verification tag patched
 *      in so usrsctp parses its chunks (then our delivery and DCEP paths run),
 *   2: an SCTP user message (stream, PPID from the next bytes) handed to the DCEP/channel layer.
 * A peer the input knocked down (e.g. an ABORT chunk) is rebuilt for the next input. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/peer.h"
#include "rtc/rtc.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

static struct rtc_peer *pa, *pb;
static int opened;
static unsigned rebuilds;	/* how often an input knocked the pair down */
static uint8_t sctp_hdr[12];	/* common header of the last real SCTP packet b received */

static void on_cand(void *o, const char *c)
{
	struct rtc_peer *other = o == &pa ? pb : pa;

	if (other)
		rtc_peer_add_remote_candidate(other, c, NULL);
}

static void on_open(void *o, struct rtc_channel *ch)
{
	(void)o;
	(void)ch;
	opened++;
}

static const struct rtc_peer_ops ops = { .local_candidate = on_cand, .channel_open = on_open };

static void spin(unsigned ms)
{
	uint64_t end = rg_mono_ns() + (uint64_t)ms * RG_NSEC_PER_MSEC;

	while (rg_mono_ns() < end)
		g_main_context_iteration(NULL, FALSE);
}

static void teardown(void)
{
	rtc_peer_free(pa);
	rtc_peer_free(pb);
	pa = pb = NULL;
}

static bool setup(void)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct rtc_config cfg = { .local_addrs = lo, .n_local_addrs = 1 };
	char *offer = NULL, *answer = NULL;
	uint64_t end;

	opened = 0;
	if (rtc_peer_new(&pa, NULL, &cfg, &ops, &pa, NULL) < 0 ||
	    rtc_peer_new(&pb, NULL, &cfg, &ops, &pb, NULL) < 0)
		goto fail;
	rtc_peer_create_channel(pa, "wireguard", false, 0, NULL);
	if (rtc_peer_create_offer(pa, &offer, NULL) < 0 ||
	    rtc_peer_set_remote_description(pb, RTC_SDP_OFFER, offer, NULL) < 0 ||
	    rtc_peer_create_answer(pb, &answer, NULL) < 0 ||
	    rtc_peer_set_remote_description(pa, RTC_SDP_ANSWER, answer, NULL) < 0)
		goto fail;
	g_free(offer);
	g_free(answer);
	offer = answer = NULL;
	end = rg_mono_ns() + 10ull * RG_NSEC_PER_SEC;
	while (opened < 2 && rg_mono_ns() < end)
		g_main_context_iteration(NULL, TRUE);
	if (opened < 2)
		goto fail;
	rtc_peer_create_channel(pb, "ctl", true, -1, NULL);
	spin(50);
	/* The record buffer holds b's last decrypted SCTP packet: keep its header. */
	memcpy(sctp_hdr, pb->dtls.rec, sizeof(sctp_hdr));
	return true;
fail:
	g_free(offer);
	g_free(answer);
	teardown();
	return false;
}

static unsigned inputs, by_layer[3];

static void print_stats(void)
{
	fprintf(stderr, "rtc_bytes: %u inputs, %u rebuilds (by layer %u %u %u)\n", inputs,
		rebuilds, by_layer[0], by_layer[1], by_layer[2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[RTC_REC_MAX];

	if (!pa) {
		if (getenv("RTC_BYTES_STATS") && !rebuilds)
			atexit(print_stats);
		rg_log_set_level(getenv("RTC_BYTES_STATS") ? RG_LOG_WARN : RG_LOG_ERROR);
		/* Hold the process-wide DTLS and usrsctp state across rebuilds (never released:
		 * the fuzzer runs until the process exits). */
		if (!rebuilds) {
			rtc_dtls_global_ref(NULL);
			rtc_sctp_global_ref(g_main_context_default());
		}
		if (!setup())
			return 0;
	}
	if (size < 1 || size > sizeof(buf))
		return 0;
	inputs++;
	switch (data[0] % 3) {
	case 0:
		rtc_ice_on_datagram(&pb->ice, data + 1, size - 1);
		break;
	case 1:
		if (size - 1 < sizeof(sctp_hdr))
			return 0;
		memcpy(buf, data + 1, size - 1);
		memcpy(buf, sctp_hdr, 8);	/* ports + verification tag */
		rtc_sctp_input(&pb->sctp, buf, size - 1);
		rtc_sctp_drain(&pb->sctp);
		break;
	case 2:
		if (size < 7)
			return 0;
		rtc_peer_on_message(pb, (uint16_t)((data[1] << 8 | data[2]) % (RTC_MAX_CHANNELS + 8)),
				    (uint32_t)data[3] << 24 | (uint32_t)data[4] << 16 |
					    (uint32_t)data[5] << 8 | data[6],
				    data + 7, size - 7);
		break;
	}
	/* Let queued output and callbacks run, without waiting for timers. */
	for (int i = 0; i < 8 && g_main_context_iteration(NULL, FALSE); i++)
		;
	if (rtc_peer_state(pa) != RTC_STATE_CONNECTED || rtc_peer_state(pb) != RTC_STATE_CONNECTED) {
		teardown();
		rebuilds++;
		by_layer[data[0] % 3]++;
	}
	return 0;
}
