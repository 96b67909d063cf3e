/* conf_turn_rest_credentials: known vectors (computed with `openssl dgst -sha1 -hmac`), the same
 * check against the openssl tool at run time with a random secret, and the error cases. */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "conf/turn.h"

static void test_vectors(void)
{
	char u[128], p[64];

	g_assert_cmpint(conf_turn_rest_credentials("north-wind-42", "peer1", 1700000000, u, sizeof(u),
						   p, sizeof(p)), ==, 0);
	g_assert_cmpstr(u, ==, "1700000000:peer1");
	g_assert_cmpstr(p, ==, "QFA3RZDAFXoj6DSeg6SOWEG/x9M=");
	g_assert_cmpuint(strlen(p), ==, CONF_TURN_PASSWORD_LEN);

	/* UTF-8 secret, expiry past 2038 */
	g_assert_cmpint(conf_turn_rest_credentials("s3cr\xe2\x82\xac" "t", "laptop-7", 4102444800LL,
						   u, sizeof(u), p, sizeof(p)), ==, 0);
	g_assert_cmpstr(u, ==, "4102444800:laptop-7");
	g_assert_cmpstr(p, ==, "itjEmvoNjJJHvSKop8ygiw5yTZ4=");
}

/* The openssl tool computes the same password for a random secret and peer id. */
static void test_against_openssl(void)
{
	char secret[33], peer[17], u[128], p[64], cmd[512];
	gchar *out = NULL;
	gint status = 0;

	for (int i = 0; i < 32; i++)
		secret[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789"[g_random_int_range(0, 46)];
	secret[32] = '\0';
	for (int i = 0; i < 16; i++)
		peer[i] = "abcdefghijklmnopqrstuvwxyz-0123456789"[g_random_int_range(0, 37)];
	peer[16] = '\0';
	g_assert_cmpint(conf_turn_rest_credentials(secret, peer, 1800000000 + g_random_int_range(0, 1000),
						   u, sizeof(u), p, sizeof(p)), ==, 0);
	snprintf(cmd, sizeof(cmd), "sh -c \"printf '%%s' '%s' | openssl dgst -sha1 -hmac '%s' -binary"
		 " | base64\"", u, secret);
	if (!g_spawn_command_line_sync(cmd, &out, NULL, &status, NULL) || status != 0) {
		g_free(out);
		g_test_skip("openssl tool not available");
		return;
	}
	g_strstrip(out);
	g_assert_cmpstr(out, ==, p);
	g_free(out);
}

static void test_errors(void)
{
	char u[128], p[64];

	g_assert_cmpint(conf_turn_rest_credentials("", "peer1", 1, u, sizeof(u), p, sizeof(p)), ==, -EINVAL);
	g_assert_cmpint(conf_turn_rest_credentials(NULL, "peer1", 1, u, sizeof(u), p, sizeof(p)), ==, -EINVAL);
	g_assert_cmpint(conf_turn_rest_credentials("s", "", 1, u, sizeof(u), p, sizeof(p)), ==, -EINVAL);
	g_assert_cmpint(conf_turn_rest_credentials("s", "a:b", 1, u, sizeof(u), p, sizeof(p)), ==, -EINVAL);
	g_assert_cmpint(conf_turn_rest_credentials("s", "peer1", -5, u, sizeof(u), p, sizeof(p)), ==, -EINVAL);
	g_assert_cmpstr(u, ==, "");
	g_assert_cmpstr(p, ==, "");
	/* username exactly fits / one byte short */
	g_assert_cmpint(conf_turn_rest_credentials("s", "peer1", 1700000000, u, 17, p, sizeof(p)), ==, 0);
	g_assert_cmpint(conf_turn_rest_credentials("s", "peer1", 1700000000, u, 16, p, sizeof(p)), ==, -ENOSPC);
	g_assert_cmpstr(u, ==, "");
	g_assert_cmpstr(p, ==, "");
	g_assert_cmpint(conf_turn_rest_credentials("s", "peer1", 1, u, sizeof(u), p,
						   CONF_TURN_PASSWORD_LEN), ==, -ENOSPC);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/turn/vectors", test_vectors);
	g_test_add_func("/conf/turn/against-openssl", test_against_openssl);
	g_test_add_func("/conf/turn/errors", test_errors);
	return g_test_run();
}
