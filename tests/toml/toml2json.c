/* toml-test decoder: TOML on stdin, toml-test's tagged JSON on stdout, exit 1 with one error
 * line on stderr when the document is invalid. Built from our parser (src/conf/toml.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "conf/toml.h"
#include "util/err.h"

static void json_str(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void tagged(const char *type, const char *val)
{
	printf("{\"type\":\"%s\",\"value\":", type);
	json_str(val, strlen(val));
	putchar('}');
}

static void emit(const struct conf_toml_value *v)
{
	char buf[64];

	switch (v->type) {
	case CONF_TOML_TABLE:
		putchar('{');
		for (size_t i = 0; i < v->table.n; i++) {
			if (i)
				putchar(',');
			json_str(v->table.items[i].key, v->table.items[i].keylen);
			putchar(':');
			emit(v->table.items[i].val);
		}
		putchar('}');
		break;
	case CONF_TOML_ARRAY:
		putchar('[');
		for (size_t i = 0; i < v->array.n; i++) {
			if (i)
				putchar(',');
			emit(v->array.items[i]);
		}
		putchar(']');
		break;
	case CONF_TOML_STRING:
		printf("{\"type\":\"string\",\"value\":");
		json_str(v->str.ptr, v->str.len);
		putchar('}');
		break;
	case CONF_TOML_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->i);
		tagged("integer", buf);
		break;
	case CONF_TOML_FLOAT:
		if (isnan(v->f))
			snprintf(buf, sizeof(buf), "nan");
		else if (isinf(v->f))
			snprintf(buf, sizeof(buf), "%sinf", v->f < 0 ? "-" : "+");
		else
			snprintf(buf, sizeof(buf), "%.17g", v->f);
		tagged("float", buf);
		break;
	case CONF_TOML_BOOL:
		tagged("bool", v->b ? "true" : "false");
		break;
	default:
		conf_toml_datetime_format(buf, sizeof(buf), v);
		tagged(conf_toml_type_name(v->type), buf);
		break;
	}
}

int main(void)
{
	struct conf_toml_value *root;
	struct rg_err err = { 0 };
	size_t n = 0, cap = 4096;
	char *s = malloc(cap);

	for (;;) {
		size_t got;

		if (!s)
			return 2;
		got = fread(s + n, 1, cap - n, stdin);
		n += got;
		if (n < cap)
			break;
		cap *= 2;
		s = realloc(s, cap);
	}
	if (conf_toml_parse(&root, s, n, "<stdin>", &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		free(s);
		return 1;
	}
	emit(root);
	putchar('\n');
	conf_toml_free(root);
	free(s);
	return 0;
}
