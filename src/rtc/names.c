/* Names of rtc enums for logs and the rtc-peer tool's JSON. */
#include "rtc/rtc.h"

const char *rtc_state_name(enum rtc_state s)
{
	switch (s) {
	case RTC_STATE_NEW:
		return "new";
	case RTC_STATE_CHECKING:
		return "checking";
	case RTC_STATE_CONNECTED:
		return "connected";
	case RTC_STATE_FAILED:
		return "failed";
	case RTC_STATE_CLOSED:
		return "closed";
	}
	return "?";
}

const char *rtc_cand_type_name(enum rtc_cand_type t)
{
	switch (t) {
	case RTC_CAND_NONE:
		return "none";
	case RTC_CAND_HOST:
		return "host";
	case RTC_CAND_SRFLX:
		return "srflx";
	case RTC_CAND_PRFLX:
		return "prflx";
	case RTC_CAND_RELAY:
		return "relay";
	}
	return "?";
}

const char *rtc_path_mtu_state_name(enum rtc_path_mtu_state s)
{
	switch (s) {
	case RTC_PATH_MTU_DEFAULT:
		return "default";
	case RTC_PATH_MTU_PINNED:
		return "pinned";
	case RTC_PATH_MTU_PENDING:
		return "pending";
	case RTC_PATH_MTU_PROBED:
		return "probed";
	case RTC_PATH_MTU_UNANSWERED:
		return "unanswered";
	}
	return "?";
}

const char *rtc_direct_state_name(enum rtc_direct_state s)
{
	switch (s) {
	case RTC_DIRECT_OFF:
		return "off";
	case RTC_DIRECT_PROBING:
		return "probing";
	case RTC_DIRECT_UP:
		return "up";
	}
	return "?";
}
