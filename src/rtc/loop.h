/* One GLib context per peer, driven from the parent's loop through one epoll set.
 *
 * GLib's loop costs O(sources + descriptors) per iteration: every wakeup polls every
 * descriptor and walks every source of the context. With one libnice agent per peer in the
 * agent's context (a socket source and two timers each), an idle agent's consent traffic
 * (≈ 3 wakeups per peer every 5 s) made idle cost grow with the square of the peer count.
 * Each peer's agent gets a context of its own instead; one source in the parent context holds
 * an epoll descriptor over all of them and the earliest of their deadlines, and a wakeup runs
 * only the contexts that are ready. Single-threaded: the parent's owner thread runs them all. */
#ifndef RG_RTC_LOOP_H
#define RG_RTC_LOOP_H

#include <glib.h>
#include <stddef.h>

/* A new context (one ref, the caller's) run from parent's loop (NULL: the default context);
 * NULL when the epoll set cannot be made. Sources attached to it, from any thread, are
 * dispatched while parent is iterated. */
GMainContext *rtc_loop_context_new(GMainContext *parent);

/* Gives the caller's ref back. The context keeps running until its sources are gone (a
 * finalizing libnice agent destroys them), then leaves the epoll set and is freed. */
void rtc_loop_context_release(GMainContext *ctx);

/* Contexts run from parent's loop (retiring ones included): for tests and status. */
size_t rtc_loop_contexts(GMainContext *parent);

#endif
