/* See journal.h. Runs on the agent's loop thread (the logger has no other caller there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "cli/journal.h"
#include "util/log.h"

enum { JOURNAL_FIELD_MAX = 96 };
#define JOURNAL_SOCKET "/run/systemd/journal/socket"	/* where sd_journal_sendv writes */

static char iface_field[32];

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

/* One native record; false when journald did not take it. */
static bool journal_record(enum rg_log_level level, const char *msg, size_t len)
{
	char prio[16], peer[JOURNAL_FIELD_MAX], path[JOURNAL_FIELD_MAX];
	char *message = malloc(len + 9);
	struct iovec iov[6];
	int n = 0, r;

	if (!message)
		return false;
	memcpy(message, "MESSAGE=", 8);
	memcpy(message + 8, msg, len + 1);
	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority(level));
	iov[n++] = (struct iovec){ message, len + 8 };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	iov[n++] = (struct iovec){ (char *)"SYSLOG_IDENTIFIER=riftgate", 26 };
	if (iface_field[0])
		iov[n++] = (struct iovec){ iface_field, strlen(iface_field) };
	if (peer_field(peer, msg))
		iov[n++] = (struct iovec){ peer, strlen(peer) };
	if (path_field(path, msg))
		iov[n++] = (struct iovec){ path, strlen(path) };
	r = sd_journal_sendv(iov, n);
	free(message);
	return r >= 0;
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
	if (getenv("NOTIFY_SOCKET"))
		sd_notify(0, state);
}
