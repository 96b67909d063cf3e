/* See masq.h. */
#include <dlfcn.h>
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

/* libnftables is loaded at the first command, not when the agent starts: only an agent that
 * masquerades (advertised routes, an exit node) runs one, and mapping the library with what it
 * pulls in (libnftnl, libxtables, libjansson) cost every other agent ~0.5 MB of RSS. The header
 * still gives the types; the package depends on libnftables1 by name (debian/control). */
#define NFT_SONAME "libnftables.so.1"

static struct {
	bool tried;
	void *lib;
	__typeof__(nft_ctx_new) *ctx_new;
	__typeof__(nft_ctx_free) *ctx_free;
	__typeof__(nft_ctx_buffer_output) *buffer_output;
	__typeof__(nft_ctx_buffer_error) *buffer_error;
	__typeof__(nft_ctx_get_error_buffer) *get_error_buffer;
	__typeof__(nft_run_cmd_from_buffer) *run_cmd_from_buffer;
} nft;

/* Loads libnftables once (control path, the agent's loop thread); false when it cannot. */
static bool nft_load(struct rg_err *err)
{
	static char why[160];

	if (!nft.tried) {
		nft.tried = true;
		nft.lib = dlopen(NFT_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (nft.lib) {
			/* dlsym's documented idiom: the pointer is stored through a void ** */
#define NFT_SYM(field, name) \
	(*(void **)&nft.field = dlsym(nft.lib, name)) != NULL
			if (!(NFT_SYM(ctx_new, "nft_ctx_new") && NFT_SYM(ctx_free, "nft_ctx_free") &&
			      NFT_SYM(buffer_output, "nft_ctx_buffer_output") &&
			      NFT_SYM(buffer_error, "nft_ctx_buffer_error") &&
			      NFT_SYM(get_error_buffer, "nft_ctx_get_error_buffer") &&
			      NFT_SYM(run_cmd_from_buffer, "nft_run_cmd_from_buffer"))) {
				snprintf(why, sizeof(why), "%s", dlerror());
				dlclose(nft.lib);
				nft.lib = NULL;
			}
#undef NFT_SYM
		} else {
			snprintf(why, sizeof(why), "%s", dlerror());
		}
	}
	if (!nft.lib)
		rg_err_set(err, -ENOSYS, "nftables: cannot load %s (%s): install libnftables1",
			   NFT_SONAME, why);
	return nft.lib != NULL;
}

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
	struct nft_ctx *ctx;
	int ret;

	if (!nft_load(err))
		return err->code;
	ctx = nft.ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return rg_err_set(err, -ENOMEM, "nftables: cannot create a context");
	nft.buffer_output(ctx);
	nft.buffer_error(ctx);
	ret = nft.run_cmd_from_buffer(ctx, cmd);
	if (ret != 0) {
		const char *e = nft.get_error_buffer(ctx);
		size_t len = e ? strcspn(e, "\n") : 0;

		ret = rg_err_set(err, -EIO, "nftables: %.*s", (int)(len > 200 ? 200 : len),
				 e ? e : "");
	}
	nft.ctx_free(ctx);
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
