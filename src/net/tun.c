/* See tun.h. Plain ioctls on /dev/net/tun; the link is brought up and addressed over netlink
 * (netlink.c), so nothing here needs CAP_NET_ADMIN beyond TUNSETIFF itself. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "net/tun.h"
#include "util/err.h"

bool net_ifname_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == ':' || name[i] <= ' ' || name[i] == 0x7f)
			return false;
	return true;
}

static int tun_attach(const char *name, bool multi_queue, bool vnet_hdr)
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0) |
			(vnet_hdr ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static int tun_open(struct net_tun *t, const char *name, bool multi_queue, bool vnet_hdr,
		    struct rg_err *err)
{
	int fd;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	if (!net_ifname_valid(name))
		return rg_err_set(err, -EINVAL, "invalid interface name '%s' (1-%d characters, no '/', "
				  "':' or spaces)", name ? name : "", IFNAMSIZ - 1);
	fd = tun_attach(name, multi_queue, vnet_hdr);
	if (fd == -ENOENT || fd == -ENODEV)
		return rg_err_set(err, fd, "/dev/net/tun is missing: load the tun module "
				  "(modprobe tun) or run where TUN devices are available");
	if (fd == -EPERM || fd == -EACCES)
		return rg_err_set(err, fd, "cannot create TUN '%s': %s (run as root or with "
				  "CAP_NET_ADMIN)", name, strerror(-fd));
	if (fd == -EBUSY || fd == -EINVAL)
		return rg_err_set(err, fd, "cannot create TUN '%s': %s (is the name used by another "
				  "device or daemon?)", name, strerror(-fd));
	if (fd < 0)
		return rg_err_set(err, fd, "cannot create TUN '%s': %s", name, strerror(-fd));
	t->fd = fd;
	t->multi_queue = multi_queue;
	t->vnet_hdr = vnet_hdr;
	memcpy(t->name, name, strlen(name) + 1);
	t->ifindex = (int)if_nametoindex(name);
	if (t->ifindex <= 0) {
		int ret = -errno;

		net_tun_close(t);
		return rg_err_set(err, ret, "TUN '%s' created but has no ifindex: %s", name,
				  strerror(-ret));
	}
	return 0;
}

int net_tun_open(struct net_tun *t, const char *name, bool multi_queue, struct rg_err *err)
{
	return tun_open(t, name, multi_queue, false, err);
}

int net_tun_open_offload(struct net_tun *t, const char *name, bool multi_queue,
			 struct rg_err *err)
{
	int ret = tun_open(t, name, multi_queue, true, err);

	if (ret < 0)
		return ret;
	/* Checksum offload plus TCP segmentation offload: the stack hands us up to 64 KiB TCP
	 * segments with a partial checksum (net/offload.c splits and completes them). */
	if (ioctl(t->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0 &&
	    ioctl(t->fd, TUNSETOFFLOAD, TUN_F_CSUM) < 0) {
		ret = -errno;
		net_tun_close(t);
		return rg_err_set(err, ret, "TUN '%s': no checksum offload: %s", name,
				  strerror(-ret));
	}
	return 0;
}

int net_tun_open_queue(const struct net_tun *t)
{
	int fd;

	if (!t->multi_queue || t->fd < 0)
		return -EINVAL;
	fd = tun_attach(t->name, true, t->vnet_hdr);
	if (fd >= 0 && t->vnet_hdr &&
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0 &&
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

void net_tun_close(struct net_tun *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

ssize_t net_tun_read(int fd, void *buf, size_t cap)
{
	ssize_t n;

	do
		n = read(fd, buf, cap);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t net_tun_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}
