/* libFuzzer target: arbitrary bytes through the invite token decoder. It must fail cleanly (no
 * crash, no leak); a token it accepts must become a config that formats and loads back, the same
 * path `riftgate join` takes, and must encode again to a token that decodes to the same fields. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/config.h"
#include "conf/invite.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_invite inv, again;
	struct conf_invite_opts o;
	struct rg_err err;
	struct conf back;
	char *text, *token;

	if (conf_invite_decode(&inv, (const char *)data, size, 0, &err) < 0)
		return 0;
	o = (struct conf_invite_opts){ .name = inv.conf.device_name, .address = inv.conf.address,
				       .expires = inv.expires };
	inv.conf.device_name = inv.inviter;	/* encode takes the inviter from device.name */
	if (conf_invite_encode(&inv.conf, &o, &token, &err) != 0)
		__builtin_trap();
	if (conf_invite_decode(&again, token, strlen(token), 0, &err) != 0 ||
	    again.expires != inv.expires || strcmp(again.conf.auth_token, inv.conf.auth_token) ||
	    again.conf.n_stun != inv.conf.n_stun || again.conf.n_turn != inv.conf.n_turn)
		__builtin_trap();
	conf_invite_clear(&again);
	conf_invite_token_free(token);
	inv.conf.device_name = (char *)o.name;
	if (!inv.conf.device_name)
		inv.conf.device_name = strdup("fuzz");
	inv.conf.private_key[0] = 1;
	if (conf_format(&inv.conf, &text) == 0) {
		if (conf_parse(&back, text, strlen(text), "fuzz", &err) != 0)
			__builtin_trap();
		conf_clear(&back);
		conf_text_free(text);
	}
	conf_invite_clear(&inv);
	return 0;
}
