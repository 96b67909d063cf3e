/* Membership state files (store.h). Called by the CLI and at agent start-up (and when a
 * revocation arrives); blocking file I/O, small files. Seeds are wiped from every buffer they
 * pass through. */
#include "trust/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/ct.h"
#include "util/encoding.h"
#include "util/err.h"

enum { LINE_MAX_LEN = TRUST_CERT_B64_MAX + 64 };

int trust_store_path(char *out, size_t cap, const char *config_path)
{
	size_t n = strlen(config_path);

	if (n > 5 && strcmp(config_path + n - 5, ".toml") == 0)
		n -= 5;
	if ((size_t)snprintf(out, cap, "%.*s.trust", (int)n, config_path) >= cap)
		return -ENAMETOOLONG;
	return 0;
}

struct trust_store *trust_store_new(void)
{
	return calloc(1, sizeof(struct trust_store));
}

void trust_store_free(struct trust_store *s)
{
	if (!s)
		return;
	rg_memzero(s->dev_seed, sizeof(s->dev_seed));
	rg_memzero(s->net_seed, sizeof(s->net_seed));
	free(s);
}

void trust_store_ctx(const struct trust_store *s, struct trust_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	memcpy(ctx->anchor, s->anchor, TRUST_KEY_LEN);
	snprintf(ctx->net, sizeof(ctx->net), "%s", s->net);
	ctx->verify = trust_verify;
	ctx->revoked = &s->revoked;
	ctx->skew_s = TRUST_SKEW_S;
}

static void file_path(char *out, size_t cap, const struct trust_store *s, const char *name)
{
	snprintf(out, cap, "%s/%s", s->dir, name);
}

/* First line of a small file, trailing newline stripped. 0, -ENOENT or -errno. */
static int read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)cap, f))
		buf[0] = '\0';
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

/* Writes text to dir/name atomically with mode 0600. */
static int write_file(const struct trust_store *s, const char *name, const char *text,
		      struct rg_err *err)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
	size_t len = strlen(text);
	int fd, ret = 0;

	file_path(path, sizeof(path), s, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return rg_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		ret = rg_err_set(err, -EIO, "%s: write failed", tmp);
	close(fd);
	if (!ret && rename(tmp, path) < 0)
		ret = rg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (ret)
		unlink(tmp);
	return ret;
}

static int load_seed(const char *path, uint8_t seed[TRUST_SEED_LEN], bool *has, struct rg_err *err)
{
	char line[128];
	struct stat st;
	int r = read_line(path, line, sizeof(line));

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return rg_err_set(err, r, "%s: %s", path, strerror(-r));
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		rg_memzero(line, sizeof(line));
		return rg_err_set(err, -EACCES, "%s is readable by others; run: chmod 600 %s", path,
				  path);
	}
	if (!rg_key_from_base64(seed, line)) {
		rg_memzero(line, sizeof(line));
		return rg_err_set(err, -EINVAL, "%s: not a base64 key", path);
	}
	rg_memzero(line, sizeof(line));
	*has = true;
	return 0;
}

static int each_revoke(const struct trust_store *s,
		       void (*fn)(void *opaque, const struct trust_revoke *r), void *opaque,
		       struct rg_err *err)
{
	char path[PATH_MAX + 32], line[LINE_MAX_LEN];
	struct trust_ctx ctx;
	FILE *f;

	file_path(path, sizeof(path), s, "revoked");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : rg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	trust_store_ctx(s, &ctx);
	while (fgets(line, sizeof(line), f)) {
		struct trust_revoke r;

		line[strcspn(line, "\r\n")] = '\0';
		if (trust_revoke_from_base64(&r, line, strlen(line)) != TRUST_OK ||
		    trust_revoke_check(&ctx, &r) != TRUST_OK)
			continue;	/* not ours: ignored, as agents ignore them on the wire */
		fn(opaque, &r);
	}
	fclose(f);
	return 0;
}

void trust_store_each_revoke(const struct trust_store *s,
			     void (*fn)(void *opaque, const struct trust_revoke *r), void *opaque)
{
	each_revoke(s, fn, opaque, NULL);
}

static void add_serial(void *opaque, const struct trust_revoke *r)
{
	trust_revlist_add(opaque, r->serial);
}

static int load_revoked(struct trust_store *s, struct rg_err *err)
{
	return each_revoke(s, add_serial, &s->revoked, err);
}

static int load_bindings(struct trust_store *s)
{
	char path[PATH_MAX + 32], line[256], wg[64], dev[64];
	uint64_t id;
	FILE *f;

	file_path(path, sizeof(path), s, "bindings");
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && s->bindings.n < TRUST_BINDINGS_MAX) {
		struct trust_binding *b = &s->bindings.b[s->bindings.n];

		if (sscanf(line, "%" SCNx64 " %63s %63s", &id, wg, dev) != 3 || !id ||
		    !rg_key_from_base64(b->wg_key, wg) || !rg_key_from_base64(b->dev_key, dev))
			continue;
		b->id = id;
		s->bindings.n++;
	}
	fclose(f);
	return 0;
}

static int load_rotations(struct trust_store *s)
{
	char path[PATH_MAX + 32], line[256], wg[64];
	uint64_t serial;
	unsigned seq;
	FILE *f;

	file_path(path, sizeof(path), s, "rotations");
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && s->rotations.n < TRUST_ROTATIONS_MAX) {
		struct trust_rotated *e = &s->rotations.e[s->rotations.n];

		if (sscanf(line, "%" SCNx64 " %u %63s", &serial, &seq, wg) != 3 || !serial || !seq ||
		    !rg_key_from_base64(e->wg_key, wg))
			continue;
		e->serial = serial;
		e->seq = seq;
		s->rotations.n++;
	}
	fclose(f);
	return 0;
}

/* Our own newest rotation: it must be a rotation of our cert signed by our device key. */
static int load_rotation(struct trust_store *s, struct rg_err *err)
{
	char path[PATH_MAX + 32], line[LINE_MAX_LEN];
	struct trust_ctx ctx;
	int r = 0;

	file_path(path, sizeof(path), s, "rotation");
	r = read_line(path, line, sizeof(line));
	if (r == -ENOENT || !s->has_cert)
		return 0;
	if (r < 0)
		return rg_err_set(err, r, "%s: %s", path, strerror(-r));
	trust_store_ctx(s, &ctx);
	if (trust_rotation_from_base64(&s->rotation, line, strlen(line)) != TRUST_OK ||
	    trust_rotation_check(&ctx, &s->cert, &s->rotation, (uint64_t)time(NULL)) != TRUST_OK)
		return rg_err_set(err, -EINVAL, "%s: not a key rotation of this device's certificate",
				  path);
	s->has_rotation = true;
	return 0;
}

const uint8_t *trust_store_wg_key(const struct trust_store *s)
{
	return s->has_rotation ? s->rotation.new_wg : s->cert.wg_key;
}

int trust_store_load(struct trust_store *s, const char *config_path, const char *net,
		     struct rg_err *err)
{
	char path[PATH_MAX + 32], line[LINE_MAX_LEN];
	int r;

	memset(s, 0, sizeof(*s));
	if (trust_store_path(s->dir, sizeof(s->dir), config_path) < 0)
		return rg_err_set(err, -ENAMETOOLONG, "%s: path too long", config_path);
	snprintf(s->net, sizeof(s->net), "%s", net);
	file_path(path, sizeof(path), s, "anchor");
	r = read_line(path, line, sizeof(line));
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return rg_err_set(err, r, "%s: %s", path, strerror(-r));
	if (!rg_key_from_base64(s->anchor, line))
		return rg_err_set(err, -EINVAL, "%s: not a base64 Ed25519 key", path);
	s->has_anchor = true;
	file_path(path, sizeof(path), s, "cert");
	r = read_line(path, line, sizeof(line));
	if (r == 0) {
		if (trust_cert_from_base64(&s->cert, line, strlen(line)) != TRUST_OK)
			return rg_err_set(err, -EINVAL, "%s: not a riftgate certificate", path);
		s->has_cert = true;
	} else if (r != -ENOENT) {
		return rg_err_set(err, r, "%s: %s", path, strerror(-r));
	}
	file_path(path, sizeof(path), s, "device.key");
	if ((r = load_seed(path, s->dev_seed, &s->has_dev_key, err)) < 0)
		return r;
	file_path(path, sizeof(path), s, "network.key");
	if ((r = load_seed(path, s->net_seed, &s->has_net_key, err)) < 0)
		return r;
	if ((r = load_revoked(s, err)) < 0)
		return r;
	if ((r = load_rotation(s, err)) < 0)
		return r;
	load_rotations(s);
	return load_bindings(s);
}

int trust_store_save(const struct trust_store *s, struct rg_err *err)
{
	char text[TRUST_CERT_B64_MAX + 2];
	int r = 0;

	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		return rg_err_set(err, -errno, "%s: %s", s->dir, strerror(errno));
	if (s->has_anchor) {
		rg_key_to_base64(text, s->anchor);
		strcat(text, "\n");
		if ((r = write_file(s, "anchor", text, err)) < 0)
			return r;
	}
	if (s->has_cert) {
		if (trust_cert_to_base64(text, sizeof(text) - 1, &s->cert) < 0)
			return rg_err_set(err, -EINVAL, "certificate does not encode");
		strcat(text, "\n");
		if ((r = write_file(s, "cert", text, err)) < 0)
			return r;
	}
	if (s->has_dev_key) {
		rg_key_to_base64(text, s->dev_seed);
		strcat(text, "\n");
		r = write_file(s, "device.key", text, err);
	}
	if (!r && s->has_net_key) {
		rg_key_to_base64(text, s->net_seed);
		strcat(text, "\n");
		r = write_file(s, "network.key", text, err);
	}
	rg_memzero(text, sizeof(text));
	return r;
}

int trust_store_add_revoke(struct trust_store *s, const struct trust_revoke *rv, struct rg_err *err)
{
	char path[PATH_MAX + 32], text[TRUST_REVOKE_B64_MAX + 2];
	FILE *f;
	int ok;

	if (trust_revlist_has(&s->revoked, rv->serial))
		return 0;
	if (trust_revlist_add(&s->revoked, rv->serial) != TRUST_OK)
		return rg_err_set(err, -ENOSPC, "revocation list full (%d serials)",
				  TRUST_REVOKED_MAX);
	if (trust_revoke_to_base64(text, sizeof(text), rv) < 0)
		return rg_err_set(err, -EINVAL, "revocation does not encode");
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		return rg_err_set(err, -errno, "%s: %s", s->dir, strerror(errno));
	file_path(path, sizeof(path), s, "revoked");
	f = fopen(path, "ae");
	if (!f)
		return rg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	fchmod(fileno(f), 0600);
	ok = fprintf(f, "%s\n", text) > 0;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	fclose(f);
	return ok ? 0 : rg_err_set(err, -EIO, "%s: write failed", path);
}

int trust_store_save_bindings(const struct trust_store *s, struct rg_err *err)
{
	size_t cap = s->bindings.n * 120 + 1, off = 0;
	char *text = malloc(cap), wg[RG_KEY_B64_LEN + 1], dev[RG_KEY_B64_LEN + 1];
	int r;

	if (!text)
		return rg_err_set(err, -ENOMEM, "out of memory");
	text[0] = '\0';
	for (size_t i = 0; i < s->bindings.n; i++) {
		const struct trust_binding *b = &s->bindings.b[i];

		rg_key_to_base64(wg, b->wg_key);
		rg_key_to_base64(dev, b->dev_key);
		off += (size_t)snprintf(text + off, cap - off, "%016" PRIx64 " %s %s\n", b->id, wg,
					dev);
	}
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		r = rg_err_set(err, -errno, "%s: %s", s->dir, strerror(errno));
	else
		r = write_file(s, "bindings", text, err);
	free(text);
	return r;
}

int trust_store_save_rotations(const struct trust_store *s, struct rg_err *err)
{
	size_t cap = s->rotations.n * 80 + 1, off = 0;
	char *text = malloc(cap), wg[RG_KEY_B64_LEN + 1];
	int r;

	if (!text)
		return rg_err_set(err, -ENOMEM, "out of memory");
	text[0] = '\0';
	for (size_t i = 0; i < s->rotations.n; i++) {
		const struct trust_rotated *e = &s->rotations.e[i];

		rg_key_to_base64(wg, e->wg_key);
		off += (size_t)snprintf(text + off, cap - off, "%016" PRIx64 " %u %s\n", e->serial,
					(unsigned)e->seq, wg);
	}
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		r = rg_err_set(err, -errno, "%s: %s", s->dir, strerror(errno));
	else
		r = write_file(s, "rotations", text, err);
	free(text);
	return r;
}

int trust_store_save_rotation(const struct trust_store *s, struct rg_err *err)
{
	char text[TRUST_ROTATION_B64_MAX + 2];

	if (trust_rotation_to_base64(text, sizeof(text) - 1, &s->rotation) < 0)
		return rg_err_set(err, -EINVAL, "key rotation does not encode");
	strcat(text, "\n");
	return write_file(s, "rotation", text, err);
}

/* ---- registry ---- */

int trust_registry_load(struct trust_registry *reg, const struct trust_store *s, struct rg_err *err)
{
	char path[PATH_MAX + 32], line[512], name[128], addr[128], kind[16], state[16];
	unsigned long long serial, not_after;
	unsigned lineno = 0;
	FILE *f;

	reg->n = 0;
	file_path(path, sizeof(path), s, "registry");
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : rg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct trust_reg_entry *e;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (reg->n == TRUST_REGISTRY_MAX) {
			fclose(f);
			return rg_err_set(err, -ENOSPC, "%s: more than %d entries", path,
					  TRUST_REGISTRY_MAX);
		}
		e = &reg->e[reg->n];
		memset(e, 0, sizeof(*e));
		if (sscanf(line, "%llx %127s %127s %llu %15s %15s", &serial, name, addr, &not_after,
			   kind, state) != 6 || strlen(name) > TRUST_NAME_MAX ||
		    !trust_prefix_parse(&e->addr, addr, strlen(addr)) || !serial) {
			fclose(f);
			return rg_err_set(err, -EINVAL, "%s:%u: not a registry line", path, lineno);
		}
		e->serial = serial;
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->not_after = not_after;
		e->ticket = strcmp(kind, "ticket") == 0;
		e->revoked = strcmp(state, "revoked") == 0;
		reg->n++;
	}
	fclose(f);
	return 0;
}

int trust_registry_save(const struct trust_registry *reg, const struct trust_store *s,
			struct rg_err *err)
{
	size_t cap = reg->n * 200 + 128, off = 0;
	char *text = malloc(cap), addr[TRUST_PREFIX_STR_MAX];
	int r;

	if (!text)
		return rg_err_set(err, -ENOMEM, "out of memory");
	off += (size_t)snprintf(text, cap, "# serial name address not_after kind state\n");
	for (size_t i = 0; i < reg->n; i++) {
		const struct trust_reg_entry *e = &reg->e[i];

		trust_prefix_format(&e->addr, addr);
		off += (size_t)snprintf(text + off, cap - off, "%016" PRIx64 " %s %s %" PRIu64 " %s %s\n",
					e->serial, e->name, addr, e->not_after,
					e->ticket ? "ticket" : "cert",
					e->revoked ? "revoked" : "active");
	}
	if (mkdir(s->dir, 0700) < 0 && errno != EEXIST)
		r = rg_err_set(err, -errno, "%s: %s", s->dir, strerror(errno));
	else
		r = write_file(s, "registry", text, err);
	free(text);
	return r;
}

const struct trust_reg_entry *trust_registry_find_addr(const struct trust_registry *reg,
						       const struct trust_prefix *a)
{
	for (size_t i = 0; i < reg->n; i++) {
		const struct trust_reg_entry *e = &reg->e[i];

		if (!e->revoked && e->addr.family == a->family && !memcmp(e->addr.addr, a->addr, 16))
			return e;
	}
	return NULL;
}

const struct trust_reg_entry *trust_registry_find_name(const struct trust_registry *reg,
						       const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (!reg->e[i].revoked && strcmp(reg->e[i].name, name) == 0)
			return &reg->e[i];
	return NULL;
}
