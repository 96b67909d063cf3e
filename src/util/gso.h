/* UDP segmentation offload (UDP_SEGMENT) limits shared by every sender that batches datagrams
 * (rtc/ice.c towards ICE peers, wgd/wgd.c towards WireGuard peers). */
#ifndef RG_UTIL_GSO_H
#define RG_UTIL_GSO_H

enum rg_udp_gso_limits {
	RG_UDP_GSO_MAX_SEGS = 64,	/* UDP_MAX_SEGMENTS in the kernel (not in its uapi headers) */
	RG_UDP_GSO_MAX_BYTES = 65000,	/* one UDP payload, with room for the headers */
};

#endif
