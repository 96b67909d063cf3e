/* ICE restart state of one peer connection: path loss, our restart waiting for its answer, the
 * new checks, and JSEP's have-local-offer (RFC 8829 §3.2: both sides may re-offer). Pure: peer.c
 * feeds it what happened and acts on what it returns (ops.ice_path, -EBUSY, ICE restarts);
 * ice.c performs the restart itself. Internal to src/rtc; the caller sees rtc_peer_restart_state,
 * rtc_peer_restart_pending and rtc_peer_path_lost (rtc.h). */
#ifndef RG_RTC_RESTART_H
#define RG_RTC_RESTART_H

#include <stdbool.h>

#include "rtc/rtc.h"

struct rtc_restart {
	enum rtc_restart_state state;
	bool lost;		/* path reported dead (ops.ice_path down), no working pair since */
	bool offer_pending;	/* JSEP have-local-offer: our offer awaits its answer */
	bool list_cands;	/* ICE restarted: the next description lists our candidates */
};

/* What the peer reports through ops.ice_path after an event. */
enum rtc_path_report {
	RTC_PATH_REPORT_NONE = 0,
	RTC_PATH_REPORT_LOST,		/* ice_path(false, why) */
	RTC_PATH_REPORT_RENEWED,	/* a restart found a pair; the path was not reported lost */
	RTC_PATH_REPORT_BACK,		/* a restart found a pair for a lost path */
	RTC_PATH_REPORT_AGAIN,		/* a lost path carries packets again, without a restart */
};

/* We restarted ICE (new local credentials): the remote side's answer brings its new ones. */
void rtc_restart_local(struct rtc_restart *r);
/* Our offer (first or re-offer) is out. */
void rtc_restart_offer_sent(struct rtc_restart *r);
/* An answer is welcome only while an offer of ours is out. */
bool rtc_restart_answer_expected(const struct rtc_restart *r);
void rtc_restart_answer_taken(struct rtc_restart *r);
/* A re-offer on this connection (new_creds: its ice-ufrag/pwd changed). Whether ICE must restart
 * for it: not when our own unanswered restart's credentials can answer it (glare). */
bool rtc_restart_remote_needs_ice(const struct rtc_restart *r, bool new_creds);
/* The re-offer was taken: ours, if any, is rolled back (glare). */
void rtc_restart_remote_taken(struct rtc_restart *r, bool new_creds);
/* The selected path died: LOST the first time, NONE while it is already reported. */
enum rtc_path_report rtc_restart_path_lost(struct rtc_restart *r);
/* ICE selected a pair (or reached READY). */
enum rtc_path_report rtc_restart_pair_selected(struct rtc_restart *r);
/* Packets arrived since the last liveness tick. */
enum rtc_path_report rtc_restart_rx(struct rtc_restart *r);
/* The path is neither lost nor being restarted: the silence hint may report it. */
bool rtc_restart_watching(const struct rtc_restart *r);
/* Whether the description being written lists our candidates (once per restart). */
bool rtc_restart_take_list_cands(struct rtc_restart *r);
/* What the peer reports (rtc_peer_restart_state, rtc_peer_restart_pending, rtc_peer_path_lost). */
enum rtc_restart_state rtc_restart_state(const struct rtc_restart *r);
bool rtc_restart_pending(const struct rtc_restart *r);	/* our restart offer is unanswered */
bool rtc_restart_lost(const struct rtc_restart *r);

#endif
