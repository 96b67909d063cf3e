/* Address change notifications (net/addrwatch.h): RTM_NEWADDR / RTM_DELADDR multicast from the
 * kernel, read with libmnl's parser. Only the ifaddrmsg header matters (interface, scope). */
#include "net/addrwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <sys/socket.h>

struct count {
	int skip_ifindex;
	int changes;
};

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count *c = data;
	const struct ifaddrmsg *ifa;

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;	/* truncated: not ours to judge */
	ifa = mnl_nlmsg_get_payload(nlh);
	if ((int)ifa->ifa_index == c->skip_ifindex)
		return MNL_CB_OK;
	/* host scope = loopback, link scope = IPv6 link-local: never ICE candidates here */
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE && ifa->ifa_scope != RT_SCOPE_SITE)
		return MNL_CB_OK;
	c->changes++;
	return MNL_CB_OK;
}

int net_addrwatch_open(struct net_addrwatch *w)
{
	int ret, fd;

	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->nl)
		return -errno;
	if (mnl_socket_bind(w->nl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	fd = mnl_socket_get_fd(w->nl);
	if ((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0 &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		goto fail;
	return 0;
fail:
	ret = -errno;
	mnl_socket_close(w->nl);
	w->nl = NULL;
	return ret;
}

int net_addrwatch_fd(const struct net_addrwatch *w)
{
	return w->nl ? mnl_socket_get_fd(w->nl) : -1;
}

int net_addrwatch_read(struct net_addrwatch *w, int skip_ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct count c = { .skip_ifindex = skip_ifindex };

	if (!w->nl)
		return -EBADF;
	/* Bounded: a burst of address changes is at most a few dozen messages. */
	for (int i = 0; i < 64; i++) {
		ssize_t n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {	/* events were lost: assume a change */
				c.changes++;
				continue;
			}
			return -errno;
		}
		if (mnl_cb_run(buf, (size_t)n, 0, 0, msg_cb, &c) < 0 && errno != ESRCH)
			break;	/* a malformed message: what was counted stands */
	}
	return c.changes;
}

void net_addrwatch_close(struct net_addrwatch *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
}
