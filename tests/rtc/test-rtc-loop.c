/* Per-peer contexts run from a parent's loop (src/rtc/loop.c): timers and descriptors of a child
 * are dispatched by iterating the parent, a wakeup runs only the children that are ready,
 * sources attached from another thread wake the parent, a descriptor number reused for a new
 * file is watched again, and released children go once their sources are gone. */
#include <errno.h>
#include <stdbool.h>
#include <glib.h>
#include <glib-unix.h>
#include <unistd.h>

#include "rtc/loop.h"

enum { GUARD_MS = 3000 };

static gboolean set_flag(gpointer data)
{
	*(int *)data += 1;
	return G_SOURCE_REMOVE;
}

/* Iterates parent (blocking) until *flag >= want or GUARD_MS pass; returns whether it got there. */
static bool run_until(GMainContext *parent, const int *flag, int want)
{
	int expired = 0;
	GSource *guard = g_timeout_source_new(GUARD_MS);

	g_source_set_callback(guard, set_flag, &expired, NULL);
	g_source_attach(guard, parent);
	while (*flag < want && !expired)
		g_main_context_iteration(parent, TRUE);
	g_source_destroy(guard);
	g_source_unref(guard);
	return *flag >= want;
}

static void drain(GMainContext *parent)
{
	for (int i = 0; i < 100 && g_main_context_iteration(parent, FALSE); i++)
		;
}

static void test_timer(void)
{
	GMainContext *parent = g_main_context_new();
	GMainContext *child = rtc_loop_context_new(parent);
	GSource *t = g_timeout_source_new(60);
	int fired = 0;
	gint64 t0 = g_get_monotonic_time();

	g_assert_nonnull(child);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 1);
	g_source_set_callback(t, set_flag, &fired, NULL);
	g_source_attach(t, child);
	g_source_unref(t);
	g_assert_true(run_until(parent, &fired, 1));
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 55 * 1000);
	rtc_loop_context_release(child);
	drain(parent);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 0);
	g_main_context_unref(parent);
}

/* A source on a pipe that counts its check() calls and dispatches. */
struct counted {
	GSource src;
	gpointer tag;
	int fd;
	int checks, dispatched;
};

static gboolean counted_check(GSource *s)
{
	struct counted *c = (struct counted *)s;

	c->checks++;
	return g_source_query_unix_fd(s, c->tag) != 0;
}

static gboolean counted_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	struct counted *c = (struct counted *)s;
	char b;

	(void)cb;
	(void)data;
	if (read(c->fd, &b, 1) == 1)
		c->dispatched++;
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs counted_funcs = { .check = counted_check, .dispatch = counted_dispatch };

static struct counted *counted_new(GMainContext *ctx, int fd)
{
	struct counted *c = (struct counted *)g_source_new(&counted_funcs, sizeof(*c));

	c->fd = fd;
	c->tag = g_source_add_unix_fd(&c->src, fd, G_IO_IN);
	g_source_attach(&c->src, ctx);
	return c;
}

/* The point of the module: a descriptor of one child wakes that child only. In one context
 * every source's check() runs on every wakeup. */
static void test_only_ready_child_runs(void)
{
	enum { N = 40, HIT = 7 };
	GMainContext *parent = g_main_context_new();
	GMainContext *kids[N];
	struct counted *src[N];
	int pipes[N][2];

	for (int i = 0; i < N; i++) {
		g_assert_cmpint(pipe(pipes[i]), ==, 0);
		kids[i] = rtc_loop_context_new(parent);
		src[i] = counted_new(kids[i], pipes[i][0]);
	}
	drain(parent);
	for (int i = 0; i < N; i++)
		src[i]->checks = 0;
	g_assert_cmpint(write(pipes[HIT][1], "x", 1), ==, 1);
	g_assert_true(run_until(parent, &src[HIT]->dispatched, 1));
	for (int i = 0; i < N; i++)
		if (i != HIT)
			g_assert_cmpint(src[i]->checks, ==, 0);
	g_assert_cmpint(src[HIT]->checks, >=, 1);
	for (int i = 0; i < N; i++) {
		g_source_destroy(&src[i]->src);
		g_source_unref(&src[i]->src);
		rtc_loop_context_release(kids[i]);
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	drain(parent);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 0);
	g_main_context_unref(parent);
}

struct attach_later {
	GMainContext *child;
	int *flag;
};

static gpointer attach_thread(gpointer data)
{
	struct attach_later *a = data;
	GSource *s;

	g_usleep(50 * 1000);
	s = g_idle_source_new();
	g_source_set_callback(s, set_flag, a->flag, NULL);
	g_source_attach(s, a->child);
	g_source_unref(s);
	return NULL;
}

/* The parent sleeps with no deadline; a source attached to a child from another thread must
 * wake it (the child's own wakeup descriptor is in the epoll set). */
static void test_attach_from_thread(void)
{
	GMainContext *parent = g_main_context_new();
	GMainContext *child = rtc_loop_context_new(parent);
	int fired = 0;
	struct attach_later a = { child, &fired };
	GThread *th;

	drain(parent);
	th = g_thread_new("attach", attach_thread, &a);
	g_assert_true(run_until(parent, &fired, 1));
	g_thread_join(th);
	rtc_loop_context_release(child);
	drain(parent);
	g_main_context_unref(parent);
}

/* A child's descriptor is closed and its number reused for a new file between two runs of the
 * child (libnice does that on an ICE restart: new sockets for old ones). epoll dropped the old
 * registration with the old file; the new file must be watched, or the child goes deaf. */
static void test_fd_number_reused(void)
{
	GMainContext *parent = g_main_context_new();
	GMainContext *child = rtc_loop_context_new(parent);
	int a[2], b[2], num;
	struct counted *s;

	g_assert_cmpint(pipe(a), ==, 0);
	s = counted_new(child, a[0]);
	drain(parent);	/* a[0] is in the epoll set now */
	num = a[0];

	g_source_destroy(&s->src);
	g_source_unref(&s->src);
	close(a[0]);
	g_assert_cmpint(pipe(b), ==, 0);
	if (b[0] != num) {	/* the same number, another file */
		g_assert_cmpint(dup2(b[0], num), ==, num);
		close(b[0]);
	}
	s = counted_new(child, num);
	g_assert_cmpint(write(b[1], "x", 1), ==, 1);
	g_assert_true(run_until(parent, &s->dispatched, 1));

	g_source_destroy(&s->src);
	g_source_unref(&s->src);
	close(num);
	close(a[1]);
	close(b[1]);
	rtc_loop_context_release(child);
	drain(parent);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 0);
	g_main_context_unref(parent);
}

static gboolean release_self(gpointer data)
{
	rtc_loop_context_release(data);
	return G_SOURCE_REMOVE;
}

/* A released child stays until its last source is gone (a finalizing libnice agent destroys
 * its sources; something may still be pending), also when it is released from its own
 * callback. */
static void test_release(void)
{
	GMainContext *parent = g_main_context_new();
	GMainContext *child = rtc_loop_context_new(parent);
	GMainContext *other = rtc_loop_context_new(parent);
	GSource *t = g_timeout_source_new(300);
	GSource *idle;
	gint64 until;

	g_source_set_callback(t, set_flag, NULL, NULL);
	g_source_attach(t, child);
	rtc_loop_context_release(child);
	drain(parent);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 2);	/* its timer is still there */
	/* A destroyed timer signals nothing: the child is looked at again by its last deadline. */
	g_source_destroy(t);
	g_source_unref(t);
	until = g_get_monotonic_time() + GUARD_MS * 1000;
	while (rtc_loop_contexts(parent) > 1 && g_get_monotonic_time() < until)
		if (!g_main_context_iteration(parent, FALSE))
			g_usleep(10 * 1000);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 1);

	idle = g_idle_source_new();
	g_source_set_callback(idle, release_self, other, NULL);
	g_source_attach(idle, other);
	g_source_unref(idle);
	drain(parent);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 0);

	/* an empty child goes at once */
	child = rtc_loop_context_new(parent);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 1);
	rtc_loop_context_release(child);
	g_assert_cmpuint(rtc_loop_contexts(parent), ==, 0);
	g_main_context_unref(parent);
}

/* The parent goes first (its loop's end): the children it still runs go with it. */
static void test_parent_gone(void)
{
	GMainContext *parent = g_main_context_new();
	GMainContext *child = rtc_loop_context_new(parent);
	GSource *t = g_timeout_source_new(10 * 1000);

	g_source_set_callback(t, set_flag, NULL, NULL);
	g_source_attach(t, child);
	g_source_unref(t);
	rtc_loop_context_release(child);
	g_main_context_unref(parent);	/* ASan: nothing leaks, nothing is used after free */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/loop/timer", test_timer);
	g_test_add_func("/rtc/loop/only-ready-child-runs", test_only_ready_child_runs);
	g_test_add_func("/rtc/loop/attach-from-thread", test_attach_from_thread);
	g_test_add_func("/rtc/loop/fd-number-reused", test_fd_number_reused);
	g_test_add_func("/rtc/loop/release", test_release);
	g_test_add_func("/rtc/loop/parent-gone", test_parent_gone);
	return g_test_run();
}
