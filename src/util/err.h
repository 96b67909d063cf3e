/* Error values a person will read (STYLE §6): an errno-style code plus one sentence that quotes
 * the bad input and where it sits. Callers own the struct; only src/cli prints it. */
#ifndef RG_UTIL_ERR_H
#define RG_UTIL_ERR_H

enum { RG_ERR_MSG_LEN = 256 };

struct rg_err {
	int code;			/* 0 or -errno */
	char msg[RG_ERR_MSG_LEN];	/* NUL-terminated, no trailing newline */
};

/* Fills err (if not NULL) and returns code, so callers can `return rg_err_set(...)`. */
int rg_err_set(struct rg_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
