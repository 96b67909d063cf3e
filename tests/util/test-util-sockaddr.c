/* util/sockaddr: the one comparison of socket addresses (an ICE pair's remote against a
 * datagram's sender, a DNS upstream's answer, netcheck's mapped addresses). */
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "util/sockaddr.h"

static struct sockaddr_storage v4(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s = (void *)&ss;

	memset(&ss, 0xa5, sizeof(ss));	/* padding differs between the two sides */
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	g_assert_cmpint(inet_pton(AF_INET, ip, &s->sin_addr), ==, 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip, unsigned port, uint32_t scope)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s = (void *)&ss;

	memset(&ss, 0x5a, sizeof(ss));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	s->sin6_flowinfo = 7;	/* not part of who sent it */
	s->sin6_scope_id = scope;
	g_assert_cmpint(inet_pton(AF_INET6, ip, &s->sin6_addr), ==, 1);
	return ss;
}

static void test_v4(void)
{
	struct sockaddr_storage a = v4("10.0.0.1", 3478), b = v4("10.0.0.1", 3478);

	((struct sockaddr_in *)&b)->sin_zero[0] = 1;
	g_assert_true(rg_sockaddr_same(&a, &b, true));
	b = v4("10.0.0.1", 3479);
	g_assert_false(rg_sockaddr_same(&a, &b, true));
	g_assert_true(rg_sockaddr_same(&a, &b, false));
	b = v4("10.0.0.2", 3478);
	g_assert_false(rg_sockaddr_same(&a, &b, true));
	g_assert_false(rg_sockaddr_same(&a, &b, false));
}

static void test_v6(void)
{
	struct sockaddr_storage a = v6("fe80::1", 53, 2), b = v6("fe80::1", 53, 2);

	((struct sockaddr_in6 *)&b)->sin6_flowinfo = 9;
	g_assert_true(rg_sockaddr_same(&a, &b, true));
	b = v6("fe80::1", 53, 3);	/* the same address on another interface */
	g_assert_false(rg_sockaddr_same(&a, &b, true));
	g_assert_false(rg_sockaddr_same(&a, &b, false));
	b = v6("fe80::1", 54, 2);
	g_assert_false(rg_sockaddr_same(&a, &b, true));
	g_assert_true(rg_sockaddr_same(&a, &b, false));
	b = v6("fe80::2", 53, 2);
	g_assert_false(rg_sockaddr_same(&a, &b, false));
}

static void test_families(void)
{
	struct sockaddr_storage a = v4("10.0.0.1", 53), b = v6("::ffff:10.0.0.1", 53, 0), u, w;

	/* a v4-mapped IPv6 address is another family on the wire: not the same sender */
	g_assert_false(rg_sockaddr_same(&a, &b, true));
	g_assert_false(rg_sockaddr_same(&b, &a, false));
	memset(&u, 0, sizeof(u));
	u.ss_family = AF_UNIX;
	w = u;
	g_assert_false(rg_sockaddr_same(&u, &w, true));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/sockaddr/v4", test_v4);
	g_test_add_func("/util/sockaddr/v6", test_v6);
	g_test_add_func("/util/sockaddr/families", test_families);
	return g_test_run();
}
