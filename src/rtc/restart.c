/* The ICE restart state machine (restart.h). peer.c calls it on the peer's GMainContext.
 *
 *   NONE ──rtc_peer_restart_ice──▶ LOCAL ──answer taken──▶ CHECKING ──pair selected──▶ NONE
 *     └──────────── re-offer with new credentials (remote restart) ─────▲
 *
 * Path loss is a separate flag: a path may be lost with no restart yet (the caller decides
 * when to restart, e.g. not while its signaling is away), and a restart may run on a path that
 * was never lost (a local address changed). A pair selected while our restart is unanswered is
 * not the new path: libnice cannot check it without the remote credentials. */
#include "rtc/restart.h"

void rtc_restart_local(struct rtc_restart *r)
{
	r->state = RTC_RESTART_LOCAL;
	r->list_cands = true;
}

void rtc_restart_offer_sent(struct rtc_restart *r)
{
	r->offer_pending = true;
}

bool rtc_restart_answer_expected(const struct rtc_restart *r)
{
	return r->offer_pending;
}

void rtc_restart_answer_taken(struct rtc_restart *r)
{
	r->offer_pending = false;
	if (r->state == RTC_RESTART_LOCAL)
		r->state = RTC_RESTART_CHECKING;
}

bool rtc_restart_remote_needs_ice(const struct rtc_restart *r, bool new_creds)
{
	return new_creds && !(r->offer_pending && r->state == RTC_RESTART_LOCAL);
}

void rtc_restart_remote_taken(struct rtc_restart *r, bool new_creds)
{
	r->offer_pending = false;
	if (new_creds) {
		r->list_cands = true;
		r->state = RTC_RESTART_CHECKING;
	} else if (r->state == RTC_RESTART_LOCAL) {
		/* a repeated offer after our own restart gives libnice the remote credentials */
		r->state = RTC_RESTART_CHECKING;
	}
}

enum rtc_path_report rtc_restart_path_lost(struct rtc_restart *r)
{
	if (r->lost)
		return RTC_PATH_REPORT_NONE;
	r->lost = true;
	return RTC_PATH_REPORT_LOST;
}

enum rtc_path_report rtc_restart_pair_selected(struct rtc_restart *r)
{
	bool was_lost = r->lost;

	if (r->state == RTC_RESTART_LOCAL || (r->state == RTC_RESTART_NONE && !r->lost))
		return RTC_PATH_REPORT_NONE;
	r->state = RTC_RESTART_NONE;
	r->lost = false;
	return was_lost ? RTC_PATH_REPORT_BACK : RTC_PATH_REPORT_RENEWED;
}

enum rtc_path_report rtc_restart_rx(struct rtc_restart *r)
{
	/* Reported lost, but the caller did not restart (it could not signal one) and the path
	 * carries packets again: it had only stalled. During a restart only a new pair counts. */
	if (!r->lost || r->state != RTC_RESTART_NONE)
		return RTC_PATH_REPORT_NONE;
	r->lost = false;
	return RTC_PATH_REPORT_AGAIN;
}

bool rtc_restart_watching(const struct rtc_restart *r)
{
	return !r->lost && r->state == RTC_RESTART_NONE;
}

bool rtc_restart_take_list_cands(struct rtc_restart *r)
{
	bool l = r->list_cands;

	r->list_cands = false;
	return l;
}

enum rtc_restart_state rtc_restart_state(const struct rtc_restart *r)
{
	return r->state;
}

bool rtc_restart_pending(const struct rtc_restart *r)
{
	return r->state == RTC_RESTART_LOCAL && r->offer_pending;
}

bool rtc_restart_lost(const struct rtc_restart *r)
{
	return r->lost;
}
