/* Per-peer GLib contexts run from one source in the parent context (loop.h).
 *
 * Each child context is run the way g_main_context_iteration runs one, split in two halves:
 * sync() prepares and queries it (its descriptors go into the epoll set, its timeout becomes a
 * deadline), and later, when epoll reports one of its descriptors or its deadline has passed,
 * run() checks and dispatches it and syncs it again. The parent-side source ("mux") is ready
 * when the epoll descriptor is readable or the earliest deadline has passed.
 *
 * What changes a child's sources between two syncs is seen through the child's own wakeup
 * descriptor, which is in the epoll set like any other: the contexts are made with
 * G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING, so GLib signals it for every attach, ready-time
 * change and descriptor change, from any thread. Descriptor numbers are reused: a socket
 * closed and a new one opened between two syncs can get the same number, and epoll drops a
 * registration when its file closes, so a child whose wakeup fired has every registration
 * re-checked at its next sync (EPOLL_CTL_MOD, then ADD on ENOENT). One table maps each
 * descriptor to the child that registered it last; a child only removes what it owns. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "rtc/loop.h"
#include "util/log.h"

enum { MAX_EVENTS = 64 };

struct mux;

struct child {
	GMainContext *ctx;	/* one ref, ours */
	GPollFD *fds;		/* the last query's descriptors, sorted; revents from epoll */
	int nfds, cap;
	GPollFD *reg;		/* what is registered in the epoll set (fd, events), sorted */
	int nreg, regcap;
	int max_prio;
	int wake_fd;		/* the context's own wakeup descriptor */
	gint64 deadline;	/* monotonic µs; G_MAXINT64: none */
	unsigned refs;		/* the owner's (until released) + one per run() in progress */
	bool ready;		/* epoll reported one of its descriptors */
	bool verify;		/* re-check every registration at the next sync */
	bool released;		/* its owner gave it back: freed once it has no sources */
	bool running;		/* in run_child: checked or dispatched right now */
};

struct mux {
	GSource src;		/* attached to the parent context */
	GMainContext *parent;	/* not owned: the source belongs to it */
	int epfd;
	gpointer tag;		/* epfd's poll tag in src */
	struct child **kids;	/* NULL slots while running; compacted after */
	size_t n, cap;
	struct child **owner;	/* indexed by descriptor: the child that registered it */
	size_t nowner;
	gint64 min_deadline;
	bool running;
};

static GSList *g_muxes;	/* struct mux *, one per parent context; the parent's thread only */

static gint64 now_us(void)
{
	return g_get_monotonic_time();
}

static struct child *owner_of(struct mux *m, int fd)
{
	return fd >= 0 && (size_t)fd < m->nowner ? m->owner[fd] : NULL;
}

static void set_owner(struct mux *m, int fd, struct child *c)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= m->nowner) {
		size_t n = MAX((size_t)fd + 1, m->nowner * 2);

		if (!c)
			return;
		m->owner = g_renew(struct child *, m->owner, n);
		memset(m->owner + m->nowner, 0, (n - m->nowner) * sizeof(*m->owner));
		m->nowner = n;
	}
	m->owner[fd] = c;
}

static void ep_set(struct mux *m, struct child *c, int fd, gushort events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)) {
		/* Not pollable by epoll (a regular file) or gone: GLib's own poll would report a
		 * regular file always ready; no libnice source has one. */
		rg_log(RG_LOG_WARN, "rtc loop: descriptor %d cannot be watched: %s", fd,
		       g_strerror(errno));
		return;
	}
	set_owner(m, fd, c);
}

static void ep_del(struct mux *m, struct child *c, int fd)
{
	if (owner_of(m, fd) != c)
		return;	/* closed and taken by another child since */
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);	/* ENOENT/EBADF: already closed */
	set_owner(m, fd, NULL);
}

static void recompute_min(struct mux *m)
{
	gint64 min = G_MAXINT64;

	for (size_t i = 0; i < m->n; i++)
		if (m->kids[i] && m->kids[i]->deadline < min)
			min = m->kids[i]->deadline;
	m->min_deadline = min;
}

/* Brings the epoll set in line with c->fds (both sorted by descriptor). */
static void update_registrations(struct mux *m, struct child *c)
{
	int i = 0, j = 0;
	bool verify = c->verify;

	c->verify = false;
	while (i < c->nfds || j < c->nreg) {
		if (j == c->nreg || (i < c->nfds && c->fds[i].fd < c->reg[j].fd)) {
			ep_set(m, c, c->fds[i].fd, c->fds[i].events);	/* new */
			i++;
		} else if (i == c->nfds || c->reg[j].fd < c->fds[i].fd) {
			ep_del(m, c, c->reg[j].fd);	/* gone */
			j++;
		} else {	/* kept: re-check after a wakeup, or when another child took it */
			if (verify || c->fds[i].events != c->reg[j].events || owner_of(m, c->fds[i].fd) != c)
				ep_set(m, c, c->fds[i].fd, c->fds[i].events);
			i++;
			j++;
		}
	}
	if (c->regcap < c->nfds) {
		c->regcap = c->cap;
		c->reg = g_renew(GPollFD, c->reg, c->regcap);
	}
	memcpy(c->reg, c->fds, (size_t)c->nfds * sizeof(*c->fds));
	c->nreg = c->nfds;
}

/* Prepares and queries c: its descriptors into the epoll set, its timeout as a deadline. */
static void sync_child(struct mux *m, struct child *c)
{
	gint timeout = -1;
	int n;

	g_main_context_acquire(c->ctx);
	g_main_context_prepare(c->ctx, &c->max_prio);
	while ((n = g_main_context_query(c->ctx, c->max_prio, &timeout, c->fds, c->cap)) > c->cap) {
		c->cap = MAX(n, c->cap * 2);
		c->fds = g_renew(GPollFD, c->fds, c->cap);
	}
	g_main_context_release(c->ctx);
	c->nfds = n;
	for (int i = 0; i < n; i++)
		c->fds[i].revents = 0;
	c->deadline = timeout < 0 ? G_MAXINT64 : now_us() + (gint64)timeout * 1000;
	c->ready = false;
	update_registrations(m, c);
}

/* A released child with nothing left but its wakeup descriptor: no source to run. */
static bool child_idle(const struct child *c)
{
	return c->deadline == G_MAXINT64 && (c->nfds == 0 || (c->nfds == 1 && c->fds[0].fd == c->wake_fd));
}

/* The child's own memory and context ref; its registrations are the caller's business. */
static void destroy_child(struct child *c)
{
	g_main_context_unref(c->ctx);
	g_free(c->fds);
	g_free(c->reg);
	g_free(c);
}

static void free_child(struct mux *m, struct child *c)
{
	for (int j = 0; j < c->nreg; j++)
		ep_del(m, c, c->reg[j].fd);
	for (size_t i = 0; i < m->n; i++)
		if (m->kids[i] == c)
			m->kids[i] = NULL;
	destroy_child(c);
}

static void compact(struct mux *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->kids[i])
			m->kids[k++] = m->kids[i];
	m->n = k;
}

static void unref_child(struct mux *m, struct child *c)
{
	if (--c->refs == 0) {
		free_child(m, c);
		if (!m->running)
			compact(m);
	}
}

/* Checks and dispatches c (whose revents epoll filled in), then syncs it again. */
static void run_child(struct mux *m, struct child *c)
{
	bool ready;

	c->refs++;
	c->running = true;
	g_main_context_acquire(c->ctx);
	ready = g_main_context_check(c->ctx, c->max_prio, c->fds, c->nfds);
	if (ready)
		g_main_context_dispatch(c->ctx);
	g_main_context_release(c->ctx);
	c->running = false;
	sync_child(m, c);
	if (c->released && child_idle(c))
		c->refs--;	/* the owner's, kept until now */
	unref_child(m, c);
}

static void mark_ready(struct mux *m, int fd, uint32_t events)
{
	struct child *c = owner_of(m, fd);

	if (!c) {	/* a registration nobody owns any more (cannot happen; be safe) */
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
		return;
	}
	for (int i = 0; i < c->nfds; i++)
		if (c->fds[i].fd == fd) {
			c->fds[i].revents = (gushort)(events & 0xffff);	/* EPOLLIN == G_IO_IN... */
			break;
		}
	c->ready = true;
	if (fd == c->wake_fd)
		c->verify = true;	/* its sources changed: a descriptor may be a new file */
}

static gboolean mux_prepare(GSource *src, gint *timeout)
{
	struct mux *m = (struct mux *)src;
	gint64 now;

	if (m->min_deadline == G_MAXINT64) {
		*timeout = -1;
		return FALSE;
	}
	now = g_source_get_time(src);
	if (m->min_deadline <= now) {
		*timeout = 0;
		return TRUE;
	}
	*timeout = (gint)MIN((m->min_deadline - now + 999) / 1000, G_MAXINT);
	return FALSE;
}

static gboolean mux_check(GSource *src)
{
	struct mux *m = (struct mux *)src;

	return g_source_query_unix_fd(src, m->tag) != 0 || m->min_deadline <= g_source_get_time(src);
}

static gboolean mux_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
	struct mux *m = (struct mux *)src;
	struct epoll_event ev[MAX_EVENTS];
	int n;
	gint64 now;

	(void)cb;
	(void)data;
	do
		n = epoll_wait(m->epfd, ev, MAX_EVENTS, 0);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++)
		mark_ready(m, ev[i].data.fd, ev[i].events);
	now = now_us();
	m->running = true;
	/* Children made while running are appended and run in this round if ready. */
	for (size_t i = 0; i < m->n; i++) {
		struct child *c = m->kids[i];

		if (c && (c->ready || c->deadline <= now))
			run_child(m, c);
	}
	m->running = false;
	compact(m);
	recompute_min(m);
	return G_SOURCE_CONTINUE;
}

static void mux_finalize(GSource *src)
{
	struct mux *m = (struct mux *)src;

	/* The parent context is going away: every child goes with it. */
	for (size_t i = 0; i < m->n; i++)
		if (m->kids[i]) {
			destroy_child(m->kids[i]);
			m->kids[i] = NULL;
		}
	g_free(m->kids);
	g_free(m->owner);
	if (m->epfd >= 0)
		close(m->epfd);
	g_muxes = g_slist_remove(g_muxes, m);
}

static GSourceFuncs mux_funcs = {
	.prepare = mux_prepare,
	.check = mux_check,
	.dispatch = mux_dispatch,
	.finalize = mux_finalize,
};

static struct mux *find_mux(GMainContext *parent)
{
	for (GSList *l = g_muxes; l; l = l->next)
		if (((struct mux *)l->data)->parent == parent)
			return l->data;
	return NULL;
}

static struct mux *get_mux(GMainContext *parent)
{
	struct mux *m = find_mux(parent);
	int epfd;

	if (m)
		return m;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return NULL;
	m = (struct mux *)g_source_new(&mux_funcs, sizeof(*m));
	m->parent = parent;
	m->epfd = epfd;
	m->min_deadline = G_MAXINT64;
	m->tag = g_source_add_unix_fd(&m->src, epfd, G_IO_IN);
	g_source_set_name(&m->src, "rtc loop");
	/* Nothing runs the parent nested from a child's callback; recursion would only save GLib
	 * taking the epoll descriptor out of the poll set and back around every dispatch. */
	g_source_set_can_recurse(&m->src, TRUE);
	g_source_attach(&m->src, parent);
	g_source_unref(&m->src);	/* the context holds it; finalize drops it from g_muxes */
	g_muxes = g_slist_prepend(g_muxes, m);
	return m;
}

GMainContext *rtc_loop_context_new(GMainContext *parent)
{
	struct mux *m;
	struct child *c;

	if (!parent)
		parent = g_main_context_default();
	m = get_mux(parent);
	if (!m)
		return NULL;
	c = g_new0(struct child, 1);
	c->ctx = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
	c->refs = 1;
	c->cap = 4;
	c->fds = g_new(GPollFD, c->cap);
	c->wake_fd = -1;
	sync_child(m, c);
	/* A new context polls nothing but its own wakeup descriptor. */
	if (c->nfds == 1)
		c->wake_fd = c->fds[0].fd;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->kids = g_renew(struct child *, m->kids, m->cap);
	}
	m->kids[m->n++] = c;
	if (c->deadline < m->min_deadline)
		m->min_deadline = c->deadline;
	return g_main_context_ref(c->ctx);
}

static struct child *find_child(GMainContext *ctx, struct mux **mp)
{
	for (GSList *l = g_muxes; l; l = l->next) {
		struct mux *m = l->data;

		for (size_t i = 0; i < m->n; i++)
			if (m->kids[i] && m->kids[i]->ctx == ctx && !m->kids[i]->released) {
				*mp = m;
				return m->kids[i];
			}
	}
	return NULL;
}

void rtc_loop_context_release(GMainContext *ctx)
{
	struct mux *m = NULL;
	struct child *c;

	if (!ctx)
		return;
	c = find_child(ctx, &m);
	g_main_context_unref(ctx);	/* the caller's; the child keeps its own */
	if (!c)
		return;
	c->released = true;
	if (c->running)
		return;	/* released from its own callback: run_child looks once it returns */
	sync_child(m, c);
	if (child_idle(c))
		unref_child(m, c);
	recompute_min(m);
}

size_t rtc_loop_contexts(GMainContext *parent)
{
	struct mux *m = find_mux(parent ? parent : g_main_context_default());
	size_t k = 0;

	if (m)
		for (size_t i = 0; i < m->n; i++)
			k += m->kids[i] != NULL;
	return k;
}
