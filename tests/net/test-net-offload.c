/* TUN offload helpers: TSO split of IPv4 and IPv6 TCP super-segments (lengths, ids, sequence
 * numbers, flags, checksums verified independently) and completion of a partial checksum. */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include "net/offload.h"

/* Independent big-endian RFC 1071 sum, for verification. */
static uint32_t be_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t be_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static bool tcp_csum_ok(const uint8_t *pkt, size_t len, bool v6)
{
	size_t ip = v6 ? 40 : (size_t)(pkt[0] & 15) * 4, tcp_len = len - ip;
	uint32_t sum = v6 ? be_sum(0, pkt + 8, 32) : be_sum(0, pkt + 12, 8);

	sum += IPPROTO_TCP + (uint32_t)tcp_len;
	return be_fold(be_sum(sum, pkt + ip, tcp_len)) == 0xffff;
}

/* Builds IP + TCP (20-byte header, flags FIN|PSH|CWR|ACK) + payload of n bytes. */
static size_t build(uint8_t *p, bool v6, size_t n)
{
	size_t ip = v6 ? 40 : 20;

	memset(p, 0, ip + 20);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((20 + n) >> 8);
		p[5] = (uint8_t)(20 + n);
		p[6] = IPPROTO_TCP;
		p[7] = 64;
		inet_pton(AF_INET6, "fd00::1", p + 8);
		inet_pton(AF_INET6, "fd00::2", p + 24);
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)((40 + n) >> 8);
		p[3] = (uint8_t)(40 + n);
		p[4] = 0x12;
		p[5] = 0x34;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		inet_pton(AF_INET, "10.0.0.1", p + 12);
		inet_pton(AF_INET, "10.0.0.2", p + 16);
	}
	uint8_t *t = p + ip;
	t[0] = 0x13; t[1] = 0x88; t[2] = 0xc0; t[3] = 0x01;
	t[4] = 0xff; t[5] = 0xff; t[6] = 0xff; t[7] = 0x00;	/* seq wraps during the split */
	t[12] = 0x50;
	t[13] = 0x80 | 0x10 | 0x08 | 0x01;
	for (size_t i = 0; i < n; i++)
		p[ip + 20 + i] = (uint8_t)(i * 7 + 3);
	return ip + 20 + n;
}

static void check_split(bool v6)
{
	static uint8_t pkt[70000], out[2000];
	size_t ip = v6 ? 40 : 20, payload = 3 * 1000 + 333;
	size_t len = build(pkt, v6, payload);
	struct virtio_net_hdr h = {
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.gso_size = 1000, .hdr_len = (uint16_t)(ip + 20),
	};
	struct net_tso t;
	unsigned n = net_tso_parse(&t, &h, pkt, len);

	g_assert_cmpuint(n, ==, 4);
	for (unsigned k = 0; k < n; k++) {
		size_t seg = k < 3 ? 1000 : 333, got = net_tso_segment(&t, k, out);
		const uint8_t *tcp = out + ip;
		uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];

		g_assert_cmpuint(got, ==, ip + 20 + seg);
		if (v6) {
			g_assert_cmpuint((size_t)(out[4] << 8 | out[5]), ==, 20 + seg);
		} else {
			g_assert_cmpuint((size_t)(out[2] << 8 | out[3]), ==, got);
			g_assert_cmpuint((unsigned)(out[4] << 8 | out[5]), ==, 0x1234 + k);
			g_assert_cmpuint(be_fold(be_sum(0, out, 20)), ==, 0xffff);
		}
		g_assert_cmpuint(seq, ==, 0xffffff00u + k * 1000);
		g_assert_cmpuint(tcp[13] & 0x01, ==, k == 3 ? 0x01 : 0);	/* FIN */
		g_assert_cmpuint(tcp[13] & 0x08, ==, k == 3 ? 0x08 : 0);	/* PSH */
		g_assert_cmpuint(tcp[13] & 0x80, ==, k == 0 ? 0x80 : 0);	/* CWR */
		g_assert_cmpuint(tcp[13] & 0x10, ==, 0x10);			/* ACK */
		g_assert_cmpmem(out + ip + 20, seg, pkt + ip + 20 + k * 1000, seg);
		g_assert_true(tcp_csum_ok(out, got, v6));
	}
	/* Malformed: wrong family for the gso type, zero mss, truncated headers. */
	h.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	g_assert_cmpuint(net_tso_parse(&t, &h, pkt, len), ==, 0);
	h.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 0;
	g_assert_cmpuint(net_tso_parse(&t, &h, pkt, len), ==, 0);
	h.gso_size = 1000;
	g_assert_cmpuint(net_tso_parse(&t, &h, pkt, ip + 10), ==, 0);
}

static void test_tso4(void)
{
	check_split(false);
}

static void test_tso6(void)
{
	check_split(true);
}

static void test_csum(void)
{
	static uint8_t pkt[2000];
	size_t len = build(pkt, false, 1001);	/* odd length */
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 20, .csum_offset = 16,
	};
	uint32_t ps = be_sum(0, pkt + 12, 8) + IPPROTO_TCP + (uint32_t)(len - 20);
	uint16_t partial = be_fold(ps);

	/* What the stack hands over: the pseudo-header sum, not complemented, in the field. */
	pkt[36] = (uint8_t)(partial >> 8);
	pkt[37] = (uint8_t)partial;
	g_assert_true(net_offload_csum(&h, pkt, len));
	g_assert_true(tcp_csum_ok(pkt, len, false));
	h.csum_offset = 2000;
	g_assert_false(net_offload_csum(&h, pkt, len));
}

/* Split a super-segment, coalesce the pieces back: same payload, same headers, a valid checksum
 * once completed, and a virtio header that would split it the same way again. */
static void check_gro(bool v6)
{
	static uint8_t pkt[70000], segs[4][2000], merged[NET_GRO_MAX];
	size_t ip = v6 ? 40 : 20, lens[4], payload = 3 * 1000 + 333;
	size_t len = build(pkt, v6, payload);
	struct virtio_net_hdr h = {
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.gso_size = 1000,
	};
	struct net_gro g = { .buf = merged };
	struct net_tso t;
	size_t n;

	pkt[ip + 13] = 0x10 | 0x08;			/* ACK|PSH: coalescible */
	g_assert_cmpuint(net_tso_parse(&t, &h, pkt, len), ==, 4);
	for (unsigned k = 0; k < 4; k++)
		lens[k] = net_tso_segment(&t, k, segs[k]);
	g_assert_true(net_gro_start(&g, segs[0], lens[0]));
	g_assert_false(net_gro_append(&g, segs[2], lens[2]));	/* out of order */
	g_assert_true(net_gro_append(&g, segs[1], lens[1]));
	g_assert_true(net_gro_append(&g, segs[2], lens[2]));
	g_assert_true(net_gro_append(&g, segs[3], lens[3]));	/* short + PSH: closes */
	g_assert_false(net_gro_append(&g, segs[3], lens[3]));
	n = net_gro_finish(&g, &h);
	g_assert_cmpuint(n, ==, len);
	g_assert_cmpuint(h.gso_size, ==, 1000);
	g_assert_cmpuint(h.gso_type, ==, v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
	g_assert_cmpuint(h.flags, ==, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	g_assert_cmpmem(merged + ip + 20, payload, pkt + ip + 20, payload);
	g_assert_cmpuint(merged[ip + 13], ==, 0x18);
	g_assert_cmpmem(merged + ip + 4, 4, pkt + ip + 4, 4);	/* first sequence number */
	if (!v6)
		g_assert_cmpuint(be_fold(be_sum(0, merged, 20)), ==, 0xffff);
	g_assert_true(net_offload_csum(&h, merged, n));
	g_assert_true(tcp_csum_ok(merged, n, v6));

	/* Not coalescible: a pure ACK, a SYN, another flow. */
	size_t ack = build(pkt, v6, 0);
	g_assert_false(net_gro_start(&g, pkt, ack));
	g_assert_true(net_gro_start(&g, segs[0], lens[0]));
	segs[1][ip + 1] ^= 1;					/* other destination port */
	g_assert_false(net_gro_append(&g, segs[1], lens[1]));
	n = net_gro_finish(&g, &h);				/* one segment: passed as is */
	g_assert_cmpuint(h.flags, ==, VIRTIO_NET_HDR_F_DATA_VALID);
	g_assert_cmpuint(h.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);
	g_assert_cmpmem(merged, n, segs[0], lens[0]);
	segs[0][ip + 13] = 0x02;
	g_assert_false(net_gro_start(&g, segs[0], lens[0]));
}

static void test_gro4(void)
{
	check_gro(false);
}

static void test_gro6(void)
{
	check_gro(true);
}

/* One read from an offload TUN: header + packet, classified. */
static void test_vnet_rx(void)
{
	static uint8_t raw[NET_VNET_HDR_LEN + 70000];
	uint8_t *pkt = raw + NET_VNET_HDR_LEN;
	struct virtio_net_hdr h = {
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1000, .hdr_len = 40,
	};
	size_t len = build(pkt, false, 3333);
	struct net_tso t;

	memcpy(raw, &h, sizeof(h));
	g_assert_cmpint(net_vnet_rx(raw, NET_VNET_HDR_LEN + len, 1040, &t), ==, NET_VNET_RX_TSO);
	g_assert_cmpuint(t.segs, ==, 4);
	g_assert_true(t.pkt == pkt);
	/* segments larger than the caller can send: dropped */
	g_assert_cmpint(net_vnet_rx(raw, NET_VNET_HDR_LEN + len, 1039, &t), ==, NET_VNET_RX_DROP);
	g_assert_cmpint(net_vnet_rx(raw, NET_VNET_HDR_LEN, 1500, &t), ==, NET_VNET_RX_DROP);
	h.gso_type = 99;						/* unknown GSO type */
	memcpy(raw, &h, sizeof(h));
	g_assert_cmpint(net_vnet_rx(raw, NET_VNET_HDR_LEN + len, 70000, &t), ==, NET_VNET_RX_DROP);

	/* a plain packet with a partial checksum comes out complete */
	len = build(pkt, false, 500);
	memset(&h, 0, sizeof(h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 20;
	h.csum_offset = 16;
	{
		uint32_t sum = be_sum(0, pkt + 12, 8) + IPPROTO_TCP + (uint32_t)(len - 20);
		uint16_t v = htons(be_fold(sum));

		memcpy(pkt + 36, &v, 2);
	}
	memcpy(raw, &h, sizeof(h));
	g_assert_cmpint(net_vnet_rx(raw, NET_VNET_HDR_LEN + len, 1500, &t), ==, NET_VNET_RX_PACKET);
	g_assert_true(tcp_csum_ok(pkt, len, false));
	h.csum_offset = 2000;						/* out of range */
	memcpy(raw, &h, sizeof(h));
	g_assert_cmpint(net_vnet_rx(raw, NET_VNET_HDR_LEN + len, 1500, &t), ==, NET_VNET_RX_DROP);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/offload/tso4", test_tso4);
	g_test_add_func("/net/offload/tso6", test_tso6);
	g_test_add_func("/net/offload/csum", test_csum);
	g_test_add_func("/net/offload/gro4", test_gro4);
	g_test_add_func("/net/offload/gro6", test_gro6);
	g_test_add_func("/net/offload/vnet_rx", test_vnet_rx);
	return g_test_run();
}
