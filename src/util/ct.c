/* See ct.h. */
#include <string.h>

#include "util/ct.h"

void rg_memzero(void *p, size_t len)
{
	explicit_bzero(p, len);
}
