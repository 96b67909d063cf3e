/* libFuzzer target: the UAPI set parser (src/wg/uapi.c) against a device that already has a
 * private key and two peers. Property checked besides memory safety: a set request that fails
 * leaves `get` output byte-for-byte unchanged (the whole request is validated before it applies). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg/device.h"
#include "wg/uapi.h"

struct fake_transport {
	uint16_t port;
	uint32_t mark;
};

static int fake_send(void *o, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	(void)o, (void)ep, (void)buf, (void)len;
	return 0;
}

static void fake_tun_write(void *o, struct wg_peer *p, uint8_t *pkt, size_t len)
{
	(void)o, (void)p, (void)pkt, (void)len;
}

static uint16_t get_port(void *o)
{
	return ((struct fake_transport *)o)->port;
}

static int set_port(void *o, uint16_t port)
{
	if (port == 1)
		return -EADDRINUSE;	/* exercises the "fails before any change" path */
	((struct fake_transport *)o)->port = port ? port : 40000;
	return 0;
}

static uint32_t get_mark(void *o)
{
	return ((struct fake_transport *)o)->mark;
}

static int set_mark(void *o, uint32_t mark)
{
	((struct fake_transport *)o)->mark = mark;
	return 0;
}

static const char base_conf[] =
	"private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
	"listen_port=51820\n"
	"public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33\n"
	"preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
	"endpoint=192.168.4.6:51820\n"
	"allowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::2/128\n"
	"public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376\n"
	"endpoint=[fd00::9]:123\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.1.0.0/16\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wg_device_ops ops = { .send = fake_send, .tun_write = fake_tun_write };
	struct fake_transport t = { 0 };
	struct wg_uapi_hooks hooks = {
		.get_listen_port = get_port, .set_listen_port = set_port,
		.get_fwmark = get_mark, .set_fwmark = set_mark, .opaque = &t,
	};
	struct wg_device *dev;
	size_t before_len = 0, after_len = 0, reply_len = 0;
	char *before, *after, *reply, *req;

	if (size > 1 << 16 || wg_device_new(&dev, &ops, NULL) < 0)
		return 0;
	if (wg_uapi_set(dev, &hooks, base_conf, sizeof(base_conf) - 1) != 0)
		abort();
	before = wg_uapi_get(dev, &hooks, &before_len);
	if (wg_uapi_set(dev, &hooks, (const char *)data, size) < 0) {
		after = wg_uapi_get(dev, &hooks, &after_len);
		if (!before || !after || before_len != after_len || memcmp(before, after, after_len))
			abort();	/* a rejected request changed the configuration */
		free(after);
	}
	/* The same bytes as a whole request through the dispatcher. */
	req = malloc(size + 1);
	if (req) {
		memcpy(req, data, size);
		req[size] = '\0';
		reply = wg_uapi_handle(dev, &hooks, req, size, &reply_len);
		free(reply);
		free(req);
	}
	free(before);
	wg_device_free(dev);
	return 0;
}
