/* Socket addresses as the kernel hands them over (a datagram's sender) or as they were resolved
 * (a configured server, an ICE pair's remote): comparing them. Pure, libc only. */
#ifndef RG_UTIL_SOCKADDR_H
#define RG_UTIL_SOCKADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Same family and address, and the same port when with_port. IPv6 also compares the scope id:
 * fe80::1 on another interface is another host. Families other than AF_INET and AF_INET6 are
 * never the same. */
bool rg_sockaddr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		      bool with_port);

#endif
