/* The Internet checksum (RFC 1071) for the packet code of this module (offload.c, icmp.c).
 * Sums are taken on native-order 32-bit loads and folded at the end: the ones'-complement sum is
 * byte-order independent up to one final swap, which storing the folded value with memcpy
 * undoes. Build pseudo-headers as bytes in network order and add them like any other buffer. */
#ifndef RG_NET_CSUM_H
#define RG_NET_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t net_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { *p, 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

/* Folds and complements: the value to memcpy into a checksum field. */
static inline uint16_t net_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return sum ? (uint16_t)sum : 0xffff;	/* like the kernel's CSUM_MANGLED_0 */
}

#endif
