/* Unit tests of src/lib: addresses, ranges, the YAML tree, diagnostics. */
#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "lib/escape.h"
#include "lib/ipv4.h"
#include "lib/json_writer.h"
#include "lib/yaml_decode.h"
#include "lib/yaml_tree.h"

static void test_ipv4_parse(void **state)
{
	uint32_t a;
	char buf[IPV4_STRLEN];
	(void)state;

	assert_int_equal(ipv4_parse("198.51.100.7", &a), 0);
	assert_int_equal(a, 0xc6336407);
	assert_string_equal(ipv4_format(a, buf), "198.51.100.7");
	assert_int_equal(ipv4_parse("0.0.0.0", &a), 0);
	assert_int_equal(ipv4_parse("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffff);
	const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.04",
			     "1.2.3.4 ", " 1.2.3.4", "1..2.3", "a.b.c.d",
			     "1.2.3.-4", "1.2.3.4/32", "1234.1.1.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_not_equal(ipv4_parse(bad[i], &a), 0);
}

static void test_ipv4_ranges(void **state)
{
	struct ipv4_range r;
	const char *why;
	(void)state;

	assert_int_equal(ipv4_range_parse("198.51.100.0/24", &r, &why), 0);
	assert_int_equal(r.first, 0xc6336400);
	assert_int_equal(r.last, 0xc63364ff);
	assert_int_equal(ipv4_range_size(&r), 256);
	assert_int_equal(ipv4_range_parse("10.0.0.1-10.0.0.4", &r, &why), 0);
	assert_int_equal(r.last - r.first, 3);
	assert_int_equal(ipv4_range_parse("10.0.0.4-10.0.0.4", &r, &why), 0);
	assert_int_equal(ipv4_range_parse("0.0.0.0/0", &r, &why), 0);
	assert_int_equal(ipv4_range_size(&r), 1ull << 32);

	assert_int_not_equal(ipv4_range_parse("10.0.0.1 - 10.0.0.4", &r, &why), 0);
	assert_string_equal(why, "spaces are not allowed in a range");
	assert_int_not_equal(ipv4_range_parse("10.0.0.5-10.0.0.4", &r, &why), 0);
	assert_string_equal(why, "the first address is above the last");
	assert_int_not_equal(ipv4_range_parse("10.0.0.1/24", &r, &why), 0);
	assert_string_equal(why, "host bits set after the prefix length");
	assert_int_not_equal(ipv4_range_parse("10.0.0.0/33", &r, &why), 0);
	assert_int_not_equal(ipv4_range_parse("10.0.0.0/", &r, &why), 0);
	assert_int_not_equal(ipv4_range_parse("10.0.0.0/08", &r, &why), 0);
	assert_int_not_equal(ipv4_range_parse("10.0.0.1", &r, &why), 0);
	assert_int_not_equal(ipv4_range_parse("10.0.0.1-", &r, &why), 0);
	assert_int_not_equal(ipv4_range_parse("-10.0.0.1", &r, &why), 0);
}

struct collected {
	int docs;
	char text[1024];
};

static int collect(const struct ydoc *doc, void *arg)
{
	struct collected *c = arg;
	const struct ynode *r = doc->root;

	c->docs++;
	if (r && r->kind == YNODE_MAP) {
		const struct ynode *v = ynode_get(r, "a");

		if (v && v->kind == YNODE_SCALAR)
			snprintf(c->text + strlen(c->text),
				 sizeof(c->text) - strlen(c->text), "a=%s@%d:%d;",
				 v->str, v->line, v->col);
	}
	return 0;
}

static int parse(const char *yaml, struct collected *c, struct diag_list *dl)
{
	memset(c, 0, sizeof(*c));
	return ytree_parse("t.yaml", yaml, strlen(yaml), collect, c, dl);
}

static void test_yaml_documents_and_positions(void **state)
{
	struct diag_list dl = {0};
	struct collected c;
	(void)state;

	assert_int_equal(parse("a: 1\n---\nb: 2\n  # c\n---\n  a:   x\n", &c, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_int_equal(c.docs, 3);
	assert_string_equal(c.text, "a=1@1:4;a=x@6:8;");
	assert_int_equal(parse("", &c, &dl), 0);
	assert_int_equal(c.docs, 0);
	diag_free(&dl);
}

static void test_yaml_refusals(void **state)
{
	struct diag_list dl = {0};
	struct collected c;
	(void)state;

	/* Duplicate keys are found at any depth, with the path to them. */
	assert_int_equal(parse("spec:\n  x: 1\n  y: 2\n  x: 3\n", &c, &dl), 0);
	assert_diag(&dl, "t.yaml:4:3: spec.x: duplicate key (first at line 2, column 3)");
	diag_free(&dl);

	assert_int_not_equal(parse("a: [1, 2\n", &c, &dl), 0);
	assert_diag(&dl, "t.yaml:2:1: YAML syntax error");
	diag_free(&dl);

	assert_int_not_equal(parse("a: \x01\xff\xfe\n", &c, &dl), 0);
	assert_diag(&dl, "YAML syntax error");
	diag_free(&dl);

	assert_int_equal(parse("a: *nope\n", &c, &dl), 0);
	assert_diag(&dl, "t.yaml:1:4: a: alias to an undefined anchor");
	diag_free(&dl);

	assert_int_equal(parse("? [1]\n: 2\n", &c, &dl), 0);
	assert_diag(&dl, "a key must be a plain string");
	diag_free(&dl);

	assert_int_equal(parse("a: \"x\\0y\"\n", &c, &dl), 0);
	assert_diag(&dl, "t.yaml:1:4: a: the value contains a NUL character");
	diag_free(&dl);

}

/* "a: " and n brackets of kind open, then as many closing ones. */
static char *nested(size_t n, char open, char close)
{
	char *y = malloc(2 * n + 5);

	memcpy(y, "a: ", 3);
	memset(y + 3, open, n);
	memset(y + 3 + n, close, n);
	strcpy(y + 3 + 2 * n, "\n");
	return y;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_yaml_depth(void **state)
{
	struct diag_list dl = {0};
	struct collected c;
	struct timespec t0;
	char *y;
	(void)state;

	/* 64 levels are fine (the mapping and 63 lists); a 65th bracket is
	 * refused where it is. */
	y = nested(63, '[', ']');
	assert_int_equal(parse(y, &c, &dl), 0);
	assert_int_equal(dl.n, 0);
	free(y);
	y = nested(65, '{', '}');
	assert_int_equal(parse(y, &c, &dl), -EINVAL);
	assert_diag(&dl, "t.yaml:1:68: nesting is deeper than 64 levels; "
		    "flatten the document");
	assert_int_equal(c.docs, 0);
	free(y);
	diag_free(&dl);

	/* 80 KB of nested brackets, seconds of libyaml: refused before it
	 * parses them. */
	y = nested(40000, '[', ']');
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(parse(y, &c, &dl), -EINVAL);
	assert_true(seconds_since(&t0) < 0.1);
	assert_diag(&dl, "t.yaml:1:68: nesting is deeper");
	free(y);
	diag_free(&dl);

	/* Brackets in quoted scalars, comments and plain scalars are text. */
	char text[1024] = "a: \"";
	memset(text + 4, '[', 100);
	strcpy(text + 104, "\\\"[\"\nb: 'it''s [' # [[");
	memset(text + strlen(text), '{', 100);
	strcat(text, "\nc: it's x[");
	memset(text + strlen(text), '[', 100);
	strcat(text, "\nd: [\"[\", '[', {\"e\":\"[[\"}]\n");
	assert_int_equal(parse(text, &c, &dl), 0);
	assert_int_equal(dl.n, 0);

	/* What the pre-scan misreads (a quote in a block scalar hides the
	 * brackets after it), the builder stops at the 65th level. */
	y = nested(40000, '[', ']');
	char *trick = malloc(strlen(y) + 16);
	sprintf(trick, "x: |\n  'q\n%s", y);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(parse(trick, &c, &dl), -EINVAL);
	assert_true(seconds_since(&t0) < 0.1);
	assert_diag(&dl, "t.yaml:3:67: a[0]", "nesting is deeper");
	free(trick);
	free(y);
	diag_free(&dl);

	/* Block nesting as well. */
	char block[8192] = "";
	for (int i = 0; i <= 65; i++)
		sprintf(block + strlen(block), "%*sk:\n", 2 * i, "");
	assert_int_equal(parse(block, &c, &dl), -EINVAL);
	assert_diag(&dl, "t.yaml:65:", "nesting is deeper than 64 levels");
	diag_free(&dl);
}

static void test_yaml_alias_expansion(void **state)
{
	const char *ok = "base: &b {port: 80, protocol: TCP}\n"
			 "ports: [*b, *b, *b]\n";
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
	struct diag_list dl = {0};
	struct collected c;
	(void)state;

	memset(&c, 0, sizeof(c));
	assert_int_equal(ytree_parse("t", ok, strlen(ok), collect, &c, &dl), 0);
	assert_int_equal(c.docs, 1);
	assert_int_equal(dl.n, 0);
	assert_int_equal(parse(bomb, &c, &dl), 0);
	assert_int_equal(c.docs, 0); /* never delivered */
	assert_diag(&dl, "t.yaml:1:1: aliases expand this document to over");
	diag_free(&dl);
}

static int check_bad(const struct ydoc *doc, void *arg)
{
	const struct ynode *items = ynode_get(doc->root, "items");

	(void)arg;
	assert_non_null(items);
	assert_false(items->items[0]->bad);
	assert_true(items->items[1]->bad);
	assert_true(doc->root->bad);
	return 0;
}

static void test_yaml_bad_marks_only_its_branch(void **state)
{
	const char *y = "items:\n- {a: 1}\n- {a: 1, a: 2}\n";
	struct diag_list dl = {0};
	(void)state;

	assert_int_equal(ytree_parse("t", y, strlen(y), check_bad, NULL, &dl), 0);
	assert_int_equal(dl.n, 1);
	diag_free(&dl);
}

static int decode_all(const struct ydoc *doc, void *arg)
{
	struct ydec d;
	const struct ynode *m, *s;
	const char *str;
	bool b;
	long v;

	ydec_init(&d, doc->file, arg);
	assert_int_equal(ydec_map(&d, doc->root, "m", &m), 1);
	assert_int_equal(ydec_seq(&d, doc->root, "m", &s), -1);
	assert_int_equal(ydec_str(&d, m, "s", &str), 1);
	assert_string_equal(str, "hi");
	assert_int_equal(ydec_bool(&d, m, "t", &b), 1);
	assert_true(b);
	assert_int_equal(ydec_bool(&d, m, "q", &b), -1);
	assert_int_equal(ydec_int(&d, m, "n", 1, 65535, &v), 1);
	assert_int_equal(v, 443);
	assert_int_equal(ydec_int(&d, m, "big", 1, 65535, &v), -1);
	assert_int_equal(ydec_int(&d, m, "huge", 1, 65535, &v), -1);
	assert_int_equal(ydec_str(&d, m, "absent", &str), 0);
	assert_int_equal(ydec_str(&d, m, "nul", &str), 0);
	size_t mark = ydec_enter(&d, "m");
	assert_int_equal(ydec_str(&d, m, "l", &str), -1);
	ydec_leave(&d, mark);
	assert_int_equal(d.errors, 5);
	return 0;
}

static void test_yaml_decode(void **state)
{
	const char *y = "m:\n  s: hi\n  t: true\n  q: \"true\"\n  n: 443\n"
			"  big: 70000\n  huge: 99999999999999999999999\n"
			"  nul: ~\n  l: [1]\n";
	struct diag_list dl = {0};
	(void)state;

	assert_int_equal(ytree_parse("t.yaml", y, strlen(y), decode_all, &dl, &dl), 0);
	assert_diag(&dl, "t.yaml:2:3: m: expected a list, found a mapping");
	assert_diag(&dl, "t.yaml:4:6: q: 'true' is not a boolean");
	assert_diag(&dl, "t.yaml:6:8: big: '70000' is not a whole number from 1 to 65535");
	assert_diag(&dl, "t.yaml:9:6: m.l: expected a single value, found a list");
	diag_free(&dl);
}

static void test_json_writer(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;
	(void)state;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_key(&w, "a");
	jw_arr_begin(&w);
	jw_int(&w, 1);
	jw_str(&w, "x\"\\\n\x01");
	jw_null(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "b");
	jw_bool(&w, false);
	jw_obj_end(&w);
	fclose(f);
	assert_string_equal(buf, "{\"a\":[1,\"x\\\"\\\\\\n\\u0001\",null,{}],\"b\":false}");
	free(buf);
}

static void test_diag_sorted_output(void **state)
{
	struct diag_list dl = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	(void)state;

	diag_add(&dl, "b", 1, 1, "x", "second file");
	diag_add(&dl, "a", 9, 2, "y", "late");
	diag_add(&dl, "a", 3, 5, "", "early, no path");
	diag_add(&dl, "a", 9, 2, "z", "late, found after");
	diag_print(&dl, f);
	fclose(f);
	assert_string_equal(buf, "a:3:5: early, no path\n"
				 "a:9:2: y: late\n"
				 "a:9:2: z: late, found after\n"
				 "b:1:1: x: second file\n");
	free(buf);
	diag_free(&dl);
}

static void test_escape(void **state)
{
	char buf[ESC_BUF], small[12];
	const char *plain = "web-1 caf\xc3\xa9 \\n";
	(void)state;

	/* Nothing to escape: the text itself, whatever its length. */
	assert_ptr_equal(esc_text(plain, buf, sizeof(buf)), plain);
	assert_null(esc_text(NULL, buf, sizeof(buf)));
	assert_string_equal(esc_text("a\nb\tc\rd", buf, sizeof(buf)),
			    "a\\nb\\tc\\rd");
	assert_string_equal(esc_text("\x1b[31mred\x7f\x01", buf, sizeof(buf)),
			    "\\x1b[31mred\\x7f\\x01");
	/* C1 controls in UTF-8 (CSI is U+009B); other UTF-8 is kept. */
	assert_string_equal(esc_text("a\xc2\x9b" "2J\xc2\xa0", buf, sizeof(buf)),
			    "a\\u009b2J\xc2\xa0");
	/* Too long for the buffer: cut, and said so. */
	assert_string_equal(esc_text("\n\n\n\n\n\n", small, sizeof(small)),
			    "\\n\\n\\n\\n...");
	/* Diagnostics quote names: they are escaped too. */
	struct diag d = {.file = "f.yaml", .line = 1, .col = 2,
			 .path = "metadata.name", .msg = "'a\nb' is bad; fix"};
	assert_string_equal(diag_format(&d, buf, sizeof(buf)),
			    "f.yaml:1:2: metadata.name: 'a\\nb' is bad; fix");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_parse),
		cmocka_unit_test(test_ipv4_ranges),
		cmocka_unit_test(test_yaml_documents_and_positions),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_yaml_depth),
		cmocka_unit_test(test_yaml_bad_marks_only_its_branch),
		cmocka_unit_test(test_yaml_alias_expansion),
		cmocka_unit_test(test_yaml_decode),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_diag_sorted_output),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests_name("lib", tests, NULL, NULL);
}
