/* libFuzzer target: arbitrary bytes through the TOML parser and, when a document parses, through
 * the config model. Both must fail cleanly (no crash, no leak, bounded depth). */
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "conf/toml.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_toml_value *root;
	struct rg_err err;
	struct conf c;

	if (conf_toml_parse(&root, (const char *)data, size, "fuzz", &err) < 0)
		return 0;
	if (conf_from_toml(&c, root, "fuzz", &err) == 0) {
		char *text;

		/* What we write must read back. */
		if (conf_format(&c, &text) == 0) {
			struct conf again;

			if (conf_parse(&again, text, __builtin_strlen(text), "fuzz", &err) != 0)
				__builtin_trap();
			conf_clear(&again);
			conf_text_free(text);
		}
		conf_clear(&c);
	}
	conf_toml_free(root);
	return 0;
}
