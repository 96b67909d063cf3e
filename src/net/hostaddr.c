/* See hostaddr.h. Interface kinds come from one RTM_GETLINK dump (IFLA_LINKINFO →
 * IFLA_INFO_KIND), names and addresses from getifaddrs(3). */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "net/hostaddr.h"

enum { KINDS_MAX = 256, KIND_LEN = 32 };

struct link_kinds {
	size_t n;
	struct {
		char name[IF_NAMESIZE];
		char kind[KIND_LEN];
	} l[KINDS_MAX];
};

static const char *const tunnel_kinds[] = NET_HOSTADDR_TUNNEL_KINDS;

bool net_hostaddr_skip(const struct net_hostaddr_filter *f, const char *ifname, const char *kind)
{
	if (f->own_ifname && strcmp(ifname, f->own_ifname) == 0)
		return true;
	for (size_t i = 0; kind && i < sizeof(tunnel_kinds) / sizeof(tunnel_kinds[0]); i++)
		if (strcmp(kind, tunnel_kinds[i]) == 0)
			return true;
	for (size_t i = 0; i < f->n_exclude; i++)
		if (fnmatch(f->exclude[i], ifname, 0) == 0)
			return true;
	return false;
}

static int linkinfo_cb(const struct nlattr *attr, void *data)
{
	const char **kind = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
		*kind = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

struct link_attrs {
	const char *name, *kind;
};

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_attrs *la = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
			la->name = mnl_attr_get_str(attr);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0)
			mnl_attr_parse_nested(attr, linkinfo_cb, &la->kind);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_kinds *k = data;
	struct link_attrs la = { 0 };

	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, &la);
	if (la.name && la.kind && k->n < KINDS_MAX) {
		snprintf(k->l[k->n].name, sizeof(k->l[k->n].name), "%s", la.name);
		snprintf(k->l[k->n].kind, sizeof(k->l[k->n].kind), "%s", la.kind);
		k->n++;
	}
	return MNL_CB_OK;
}

/* Every link's kind (links without one, e.g. physical NICs, are left out). */
static int dump_kinds(struct link_kinds *k)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct mnl_socket *nl;
	unsigned int portid, seq = (unsigned int)time(NULL);
	struct rtgenmsg *g;
	ssize_t n;
	int ret = MNL_CB_OK;

	k->n = 0;
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	while (ret > MNL_CB_STOP) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, link_cb, k);
	}
	if (ret < 0)
		goto fail;
	mnl_socket_close(nl);
	return 0;
fail:
	ret = -errno;
	mnl_socket_close(nl);
	return ret;
}

static const char *kind_of(const struct link_kinds *k, const char *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->l[i].name, name) == 0)
			return k->l[i].kind;
	return "";
}

size_t net_hostaddrs(const struct net_hostaddr_filter *f, char out[][INET6_ADDRSTRLEN],
		     size_t max)
{
	static struct link_kinds kinds;	/* control path, agent loop only: not reentrant */
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	/* Without the dump (no rtnetlink?) names still filter: own interface and patterns. */
	if (dump_kinds(&kinds) < 0)
		kinds.n = 0;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && n < max; i = i->ifa_next) {
		const void *src;

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
		    net_hostaddr_skip(f, i->ifa_name, kind_of(&kinds, i->ifa_name)))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			src = &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a6 =
				&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a6))
				continue;
			src = a6;
		} else {
			continue;
		}
		if (inet_ntop(i->ifa_addr->sa_family, src, out[n], INET6_ADDRSTRLEN))
			n++;
	}
	freeifaddrs(ifa);
	return n;
}
