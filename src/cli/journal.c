/* See journal.h. Runs on the agent's loop thread (the logger has no other caller there).
 *
 * Both protocols are systemd's documented, stable wire formats, spoken here directly rather
 * than through libsystemd, which would map six more libraries (libsystemd, gcrypt, gpg-error,
 * zstd, lz4, cap: ~0.7 MB of every agent's RSS) for two sendmsg calls:
 * - journald's native protocol: one AF_UNIX datagram per record to /run/systemd/journal/socket,
 *   each field "NAME=value\n";
 * - sd_notify: one AF_UNIX datagram with the state string to $NOTIFY_SOCKET (a path, or an
 *   abstract name written with a leading '@'). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "cli/journal.h"
#include "util/log.h"

enum {
	JOURNAL_FIELD_MAX = 96,
	JOURNAL_RECORD_MAX = 2048,	/* MESSAGE (1023 bytes at most) and five short fields */
};
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static char iface_field[32];
static int journal_fd = -1;	/* opened at the first record, kept (as libsystemd does) */

static int priority(enum rg_log_level level)
{
	switch (level) {
	case RG_LOG_ERROR: return LOG_ERR;
	case RG_LOG_WARN: return LOG_WARNING;
	case RG_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

/* "peer ID: ..." -> PEER=ID; false when the line is not about a peer. */
static bool peer_field(char out[static JOURNAL_FIELD_MAX], const char *msg)
{
	const char *id = msg + 5, *end;

	if (strncmp(msg, "peer ", 5) != 0 || !(end = strchr(id, ':')) || end == id ||
	    end - id > 64 || memchr(id, ' ', (size_t)(end - id)))
		return false;
	snprintf(out, JOURNAL_FIELD_MAX, "PEER=%.*s", (int)(end - id), id);
	return true;
}

/* "... via TYPE..." -> PATH_TYPE=TYPE for the four ICE candidate types. */
static bool path_field(char out[static JOURNAL_FIELD_MAX], const char *msg)
{
	static const char *const types[] = { "host", "srflx", "prflx", "relay" };
	const char *v = strstr(msg, " via ");

	if (!v)
		return false;
	v += 5;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i]);

		if (strncmp(v, types[i], n) == 0 && (v[n] == '\0' || v[n] == ' ' || v[n] == ',' ||
						     v[n] == ')' || v[n] == ';')) {
			snprintf(out, JOURNAL_FIELD_MAX, "PATH_TYPE=%s", types[i]);
			return true;
		}
	}
	return false;
}

static void set_iface(const char *ifname)
{
	snprintf(iface_field, sizeof(iface_field), "IFACE=%s", ifname ? ifname : "");
	if (!ifname)
		iface_field[0] = '\0';
}

/* Appends one field, "NAME=value\n", to rec; 0 when it does not fit. Values never hold a newline
 * (the logger escapes control bytes, rg_escape_text; the other fields are parsed from its
 * line), so the protocol's length-prefixed form for multi-line values is not needed. */
static size_t journal_field(char *rec, size_t at, size_t cap, const char *field, size_t len)
{
	if (len + 1 > cap - at)
		return 0;
	memcpy(rec + at, field, len);
	rec[at + len] = '\n';
	return at + len + 1;
}

/* One native record; false when journald did not take it (not listening, or its queue is full:
 * the loop never blocks on the journal). */
static bool journal_record(enum rg_log_level level, const char *msg, size_t len)
{
	static const struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
	char rec[JOURNAL_RECORD_MAX], prio[16], peer[JOURNAL_FIELD_MAX], path[JOURNAL_FIELD_MAX];
	size_t n;

	len = MIN(len, (size_t)1023);	/* the logger's bound; leaves room for the other fields */
	memcpy(rec, "MESSAGE=", 8);
	memcpy(rec + 8, msg, len);
	rec[8 + len] = '\n';
	n = 9 + len;
	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority(level));
	n = journal_field(rec, n, sizeof(rec), prio, strlen(prio));
	n = n ? journal_field(rec, n, sizeof(rec), "SYSLOG_IDENTIFIER=riftgate", 26) : 0;
	if (n && iface_field[0])
		n = journal_field(rec, n, sizeof(rec), iface_field, strlen(iface_field));
	if (n && peer_field(peer, msg))
		n = journal_field(rec, n, sizeof(rec), peer, strlen(peer));
	if (n && path_field(path, msg))
		n = journal_field(rec, n, sizeof(rec), path, strlen(path));
	if (!n)
		return false;
	if (journal_fd < 0 &&
	    (journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	return sendto(journal_fd, rec, n, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&sa,
		      sizeof(sa)) == (ssize_t)n;
}

static void journal_sink(enum rg_log_level level, const char *msg, size_t len, void *opaque)
{
	(void)opaque;
	/* journald is gone: stderr is still the stream systemd gave us */
	if (!journal_record(level, msg, len))
		dprintf(STDERR_FILENO, "<%d>%s\n", priority(level), msg);
}

static void tee_sink(enum rg_log_level level, const char *msg, size_t len, void *opaque)
{
	char line[1100];
	size_t n = rg_log_prefix(line, sizeof(line), level);

	(void)opaque;
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%.*s\n", (int)MIN(len, 1024), msg);
	if (write(STDERR_FILENO, line, MIN(n, sizeof(line) - 1)) < 0) {
		/* the file is gone: the journal still has it */
	}
	journal_record(level, msg, len);
}

bool cli_journal_tee(const char *ifname)
{
	if (access(JOURNAL_SOCKET, W_OK) != 0)
		return false;
	set_iface(ifname);
	rg_log_set_sink(tee_sink, NULL);
	return true;
}

/* systemd's rule: stderr is the journal when its device:inode equal $JOURNAL_STREAM. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool cli_journal_use(const char *ifname)
{
	if (!stderr_is_journal())
		return false;
	set_iface(ifname);
	rg_log_set_sink(journal_sink, NULL);
	return true;
}

void cli_notify(const char *state)
{
	const char *e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = e ? strlen(e) : 0;
	socklen_t salen;
	int fd;

	/* a path or an abstract name ('@' stands for its leading NUL); anything else is not ours */
	if (!e || (e[0] != '/' && e[0] != '@') || len < 2 || len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, e, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (e[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen) < 0) {
		/* systemd is gone or never listened: nothing else to tell */
	}
	close(fd);
}
