/* riftgate genkey / pubkey: byte-for-byte what `wg genkey` / `wg pubkey` print, with the same
 * refusals: pubkey reads exactly 44 characters, then allows only whitespace or NULs. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "conf/keys.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/x25519.h"

int cmd_genkey(int argc, char **argv)
{
	uint8_t key[RG_KEY_LEN];
	char b64[RG_KEY_B64_LEN + 1];
	struct stat st;
	int r;

	if (argc == 2 && cmd_is_help(argv[1])) {
		printf("Usage: %s %s\n", rg_prog, argv[0]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "%s: %s takes no arguments, got '%s'\nUsage: %s %s\n", rg_prog,
			argv[0], argv[1], rg_prog, argv[0]);
		return CMD_USAGE;
	}
	/* Like wg: a private key going into a file others can read deserves a warning. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n", stderr);
	r = conf_key_generate(key);
	if (r < 0) {
		fprintf(stderr, "%s: cannot read random bytes: %s\n", rg_prog, strerror(-r));
		return 1;
	}
	rg_key_to_base64(b64, key);
	rg_memzero(key, sizeof(key));
	r = puts(b64) < 0 || fflush(stdout) != 0;
	rg_memzero(b64, sizeof(b64));
	return r;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int cmd_pubkey(int argc, char **argv)
{
	uint8_t priv[RG_KEY_LEN], pub[RG_KEY_LEN];
	char b64[RG_KEY_B64_LEN + 1];
	int c, ret = 1;

	if (argc == 2 && cmd_is_help(argv[1])) {
		printf("Usage: %s %s\n", rg_prog, argv[0]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "%s: %s takes no arguments, got '%s'\nUsage: %s %s\n", rg_prog,
			argv[0], argv[1], rg_prog, argv[0]);
		return CMD_USAGE;
	}
	if (fread(b64, 1, RG_KEY_B64_LEN, stdin) != RG_KEY_B64_LEN) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", rg_prog);
		goto out;
	}
	b64[RG_KEY_B64_LEN] = '\0';
	while ((c = getc(stdin)) != EOF) {
		if (c == '\0' || is_space(c))
			continue;
		fprintf(stderr, "%s: Trailing characters found after key\n", rg_prog);
		goto out;
	}
	if (!rg_key_from_base64(priv, b64) || !rg_x25519_public(pub, priv)) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", rg_prog);
		goto out;
	}
	rg_key_to_base64(b64, pub);
	ret = puts(b64) < 0 || fflush(stdout) != 0;
out:
	rg_memzero(priv, sizeof(priv));
	rg_memzero(b64, sizeof(b64));
	return ret;
}
