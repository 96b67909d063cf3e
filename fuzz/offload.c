/* libFuzzer target: the TUN offload helpers (src/net/offload.c). Packets handed to the GRO
 * merger come from authenticated but possibly hostile peers; TSO input comes from the kernel.
 * Input: byte 0 picks the mode; the rest is a list of packets, each prefixed by a 2-byte length
 * (GRO), or a virtio header followed by one packet (TSO, checksum). Checked beyond memory
 * safety: a merged train splits back into exactly the payload bytes that were merged. */
#include <stdlib.h>
#include <string.h>

#include "net/offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t merged[NET_GRO_MAX], seg[2 * 65536], pkt[65536 + 64];

static void fuzz_gro(const uint8_t *p, size_t n)
{
	static uint8_t payload[NET_GRO_MAX];
	struct net_gro g = { .buf = merged };
	size_t plen = 0;
	bool started = false;

	while (n >= 2) {
		size_t len = (size_t)(p[0] << 8 | p[1]);

		p += 2;
		n -= 2;
		if (len > n)
			len = n;
		memcpy(pkt, p, len);
		if (!started) {
			started = net_gro_start(&g, pkt, len);
			if (started) {
				plen = len - g.ip_len - g.tcp_len;
				memcpy(payload, pkt + g.ip_len + g.tcp_len, plen);
			}
		} else if (net_gro_append(&g, pkt, len)) {
			size_t add = len - g.ip_len - g.tcp_len;

			if (plen + add > sizeof(payload))
				abort();
			memcpy(payload + plen, pkt + g.ip_len + g.tcp_len, add);
			plen += add;
		}
		p += len;
		n -= len;
	}
	if (!started)
		return;
	struct virtio_net_hdr h;
	size_t len = net_gro_finish(&g, &h), hdr = g.ip_len + g.tcp_len;

	if (len != hdr + plen || memcmp(merged + hdr, payload, plen))
		abort();
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		struct net_tso t;
		unsigned k, segs = net_tso_parse(&t, &h, merged, len);
		size_t off = 0;

		if (!net_offload_csum(&h, merged, len) || segs != g.segs)
			abort();
		for (k = 0; k < segs; k++) {
			size_t sl = net_tso_segment(&t, k, seg) - hdr;

			if (memcmp(seg + hdr, payload + off, sl))
				abort();
			off += sl;
		}
		if (off != plen)
			abort();
	}
}

static void fuzz_tso(const uint8_t *p, size_t n)
{
	struct virtio_net_hdr h;
	struct net_tso t;
	unsigned segs;

	if (n < sizeof(h))
		return;
	memcpy(&h, p, sizeof(h));
	p += sizeof(h);
	n -= sizeof(h);
	if (n > sizeof(pkt))
		n = sizeof(pkt);
	memcpy(pkt, p, n);
	(void)net_offload_csum(&h, pkt, n);
	segs = net_tso_parse(&t, &h, pkt, n);
	for (unsigned k = 0; k < segs && k < 256; k++)
		if (net_tso_segment(&t, k, seg) > t.hdr_len + t.mss)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 200000)
		return 0;
	if (data[0] & 1)
		fuzz_tso(data + 1, size - 1);
	else
		fuzz_gro(data + 1, size - 1);
	return 0;
}
