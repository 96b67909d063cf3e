/* See sockaddr.h. */
#include <netinet/in.h>
#include <string.h>

#include "util/sockaddr.h"

bool rg_sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		      bool with_port)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr &&
		       (!with_port || x->sin_port == y->sin_port);
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) &&
		       x->sin6_scope_id == y->sin6_scope_id &&
		       (!with_port || x->sin6_port == y->sin6_port);
	}
	return false;
}
