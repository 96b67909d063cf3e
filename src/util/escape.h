/* Text from the hub, a peer or the network on its way to a log line or a terminal (`riftgate
 * status`): control characters (C0, DEL, C1), bidirectional overrides and bytes that are not
 * UTF-8 become "\xNN", so a peer id cannot forge a log line or send escape sequences to a
 * terminal. Any thread, no state. */
#ifndef RG_UTIL_ESCAPE_H
#define RG_UTIL_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the escaped form of in[0..len) into out (always NUL-terminated when cap > 0), cut at a
 * character boundary when it does not fit. Returns the bytes written, NUL excluded. */
size_t rg_escape_text(char *out, size_t cap, const char *in, size_t len);
/* Whether rg_escape_text() would leave s unchanged. */
bool rg_text_is_printable(const char *s, size_t len);

#endif
