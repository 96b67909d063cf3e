/* See masq.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "net/masq.h"
#include "util/err.h"

enum { RULESET_MAX = 4096 };

void net_masq_table_name(char out[NET_MASQ_TABLE_MAX], const char *ifname)
{
	size_t n = (size_t)snprintf(out, NET_MASQ_TABLE_MAX, "riftgate_%s", ifname);

	for (size_t i = 0; i < n && i < NET_MASQ_TABLE_MAX; i++)
		if (out[i] == '.' || out[i] == '-')
			out[i] = '_';
}

/* Runs one nftables command buffer; the error text (first line) goes into err. */
static int run(const char *cmd, struct rg_err *err)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	int ret;

	if (!nft)
		return rg_err_set(err, -ENOMEM, "nftables: cannot create a context");
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	ret = nft_run_cmd_from_buffer(nft, cmd);
	if (ret != 0) {
		const char *e = nft_ctx_get_error_buffer(nft);
		size_t len = e ? strcspn(e, "\n") : 0;

		ret = rg_err_set(err, -EIO, "nftables: %.*s", (int)(len > 200 ? 200 : len),
				 e ? e : "");
	}
	nft_ctx_free(nft);
	return ret;
}

int net_masq_set(const char *ifname, const struct rg_prefix *routes, size_t n, bool all,
		 struct rg_err *err)
{
	char table[NET_MASQ_TABLE_MAX], cmd[RULESET_MAX], pfx[RG_PREFIX_STR_MAX];
	size_t len;

	net_masq_table_name(table, ifname);
	/* add + delete + define in one transaction: replaces a table left by a crash. */
	len = (size_t)snprintf(cmd, sizeof(cmd),
			       "add table inet %s\ndelete table inet %s\n"
			       "table inet %s {\n chain postrouting {\n"
			       "  type nat hook postrouting priority srcnat; policy accept;\n",
			       table, table, table);
	for (size_t i = 0; i < n && len < sizeof(cmd); i++) {
		if (!rg_prefix_format(&routes[i], pfx, sizeof(pfx)))
			return rg_err_set(err, -EINVAL, "nftables: bad route");
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len,
					"  iifname \"%s\" %s daddr %s masquerade\n", ifname,
					routes[i].family == AF_INET6 ? "ip6" : "ip", pfx);
	}
	if (all && len < sizeof(cmd))
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len,
					"  iifname \"%s\" oifname != \"%s\" masquerade\n", ifname,
					ifname);
	if (len < sizeof(cmd))
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, " }\n}\n");
	if (len >= sizeof(cmd))
		return rg_err_set(err, -E2BIG, "nftables: ruleset too long");
	return run(cmd, err);
}

int net_masq_clear(const char *ifname)
{
	char table[NET_MASQ_TABLE_MAX], cmd[128];
	struct rg_err err = { 0 };

	net_masq_table_name(table, ifname);
	snprintf(cmd, sizeof(cmd), "add table inet %s\ndelete table inet %s\n", table, table);
	return run(cmd, &err);
}

int net_forwarding_set(int family, int on, int *was)
{
	const char *path = family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding" :
						"/proc/sys/net/ipv4/ip_forward";
	char c = 0;
	int fd, ret = 0;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (was)
		*was = read(fd, &c, 1) == 1 && c == '1';
	if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, on ? "1\n" : "0\n", 2) != 2)
		ret = -errno;
	close(fd);
	return ret;
}
