/* riftgate under systemd: native journald records for the agent's log and sd_notify(3) state.
 * The util logger stays libc-only; this installs a sink in it (util/log.h). */
#ifndef RG_CLI_JOURNAL_H
#define RG_CLI_JOURNAL_H

#include <stdbool.h>

/* When stderr is the journal (systemd sets $JOURNAL_STREAM to its device:inode), sends every
 * log line as a native record instead: MESSAGE, PRIORITY (error 3, warn 4, info 6, debug and
 * trace 7), SYSLOG_IDENTIFIER=riftgate, IFACE=ifname, and, parsed from the line, PEER= (a line
 * "peer ID: ...") and PATH_TYPE= (a word "via host|srflx|prflx|relay"). Returns true if it did.
 * ifname is copied. */
bool cli_journal_use(const char *ifname);

/* The detached agent (stderr is its log file) on a host whose journald listens: every line goes
 * to the file, dated, and to the journal as the same native record, so `journalctl -t riftgate
 * -p warning` shows a `sudo riftgate up` as it shows the service. Returns true if journald's
 * socket is there. */
bool cli_journal_tee(const char *ifname);

/* sd_notify(3) when $NOTIFY_SOCKET is set; a no-op otherwise. state: "READY=1\nSTATUS=..." */
void cli_notify(const char *state);

#endif
