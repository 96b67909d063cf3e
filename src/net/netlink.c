/* See netlink.h. One request, one ACK: NLM_F_ACK makes the kernel answer every request with an
 * NLMSG_ERROR carrying 0 or -errno, which mnl_cb_run turns into a return value. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/netlink.h"

static int nl_request(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int portid, seq;
	ssize_t n;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret < 0 ? -errno : 0;
	mnl_socket_close(nl);
	return ret;
fail:
	ret = -errno;
	mnl_socket_close(nl);
	return ret;
}

static int link_change(int ifindex, unsigned flags, unsigned change, unsigned mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = flags;
	ifm->ifi_change = change;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_request(nlh, NULL, NULL);
}

int net_link_set_up(int ifindex, bool up)
{
	return link_change(ifindex, up ? IFF_UP : 0, IFF_UP, 0);
}

int net_link_set_mtu(int ifindex, unsigned mtu)
{
	if (mtu < 68 || mtu > 65535)
		return -EINVAL;
	return link_change(ifindex, 0, 0, mtu);
}

static int mtu_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		*(unsigned *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int mtu_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), mtu_attr_cb, data);
	return MNL_CB_OK;
}

int net_link_get_mtu(int ifindex, unsigned *mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	*mtu = 0;
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	int ret = nl_request(nlh, mtu_cb, mtu);
	return ret ? ret : (*mtu ? 0 : -ENODATA);
}

static size_t family_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int net_addr_add(int ifindex, const struct rg_prefix *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	int ret;

	if (p->family != AF_INET && p->family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, family_len(p->family), p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, family_len(p->family), p->addr);
	if (p->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;	/* usable at once: tests ping right after */
	ret = nl_request(nlh, NULL, NULL);
	return ret == -EEXIST ? 0 : ret;
}

static int route_change(int ifindex, const struct rg_prefix *p, uint32_t table, bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t dst[16] = { 0 };
	struct rtmsg *rtm;

	if (p->family != AF_INET && p->family != AF_INET6)
		return -EAFNOSUPPORT;
	/* The kernel refuses a destination with host bits set. */
	for (unsigned i = 0; i < family_len(p->family); i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;

		dst[i] = bits >= 8 ? p->addr[i] : (uint8_t)(p->addr[i] & (0xff00 >> bits));
	}
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)p->family;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, family_len(p->family), dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	if (table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	int ret = nl_request(nlh, NULL, NULL);
	return add && ret == -EEXIST ? 0 : ret;
}

int net_route_add(int ifindex, const struct rg_prefix *p)
{
	return route_change(ifindex, p, RT_TABLE_MAIN, true);
}

int net_route_del(int ifindex, const struct rg_prefix *p)
{
	return route_change(ifindex, p, RT_TABLE_MAIN, false);
}

int net_route_table(bool add, int ifindex, const struct rg_prefix *p, uint32_t table)
{
	return route_change(ifindex, p, table, add);
}

int net_route_blackhole(bool add, int family, uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	int ret;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_BLACKHOLE;
	if (table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	ret = nl_request(nlh, NULL, NULL);
	return add && ret == -EEXIST ? 0 : ret;
}

int net_rule(bool add, const struct net_rule *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	int ret;

	if (r->family != AF_INET && r->family != AF_INET6)
		return -EAFNOSUPPORT;
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)r->family;
	frh->action = FR_ACT_TO_TBL;
	frh->flags = r->not_fwmark ? FIB_RULE_INVERT : 0;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	if (r->not_fwmark) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->not_fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffu);
	}
	if (r->suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_prefixlen);
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	ret = nl_request(nlh, NULL, NULL);
	return add && ret == -EEXIST ? 0 : ret;
}

int net_route_flush_pmtu(int ifindex, int family, const uint8_t *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int fd, ret;

	if (family == AF_INET) {
		/* IPv4 keeps learned PMTUs in next-hop exceptions that netlink cannot delete one
		 * by one; a route-cache flush bumps their generation, which resets them all in
		 * this namespace (they are learned again at the next ICMP). */
		fd = open("/proc/sys/net/ipv4/route/flush", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		ret = write(fd, "1\n", 2) == 2 ? 0 : -errno;
		close(fd);
		return ret;
	}
	if (family != AF_INET6)
		return -EAFNOSUPPORT;
	/* IPv6: delete the cached (RTM_F_CLONED) route of this one destination. */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = 128;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_flags = RTM_F_CLONED;
	mnl_attr_put(nlh, RTA_DST, 16, addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	ret = nl_request(nlh, NULL, NULL);
	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;	/* nothing cached */
}
