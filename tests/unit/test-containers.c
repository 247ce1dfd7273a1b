/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/core's shared containers: the string builder,
 * k8s_asprintf, the growable arrays and the string hash. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/map.h"
#include "core/strbuf.h"
#include "core/vec.h"

START_TEST(test_buf_empty_take_is_empty_string)
{
	struct k8s_buf b = { 0 };
	char *s = NULL;

	ck_assert_int_eq(k8s_buf_take(&b, &s), 0);
	ck_assert_str_eq(s, "");
	ck_assert_ptr_null(b.data);
	free(s);
	s = k8s_buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
	k8s_buf_free(&b);
}
END_TEST

START_TEST(test_buf_appends)
{
	struct k8s_buf b = { 0 };
	char *s;

	k8s_buf_puts(&b, "chain ");
	k8s_buf_printf(&b, "%s-%u", "svc", 42u);
	k8s_buf_putc(&b, ' ');
	k8s_buf_u32(&b, 0);
	k8s_buf_putc(&b, ' ');
	k8s_buf_u32(&b, 4294967295u);
	k8s_buf_add(&b, "xyz", 2);
	k8s_buf_printf(&b, "%s", "");
	ck_assert_str_eq(b.data, "chain svc-42 0 4294967295xy");
	ck_assert_uint_eq(b.len, strlen(b.data));
	s = k8s_buf_steal(&b);
	ck_assert_str_eq(s, "chain svc-42 0 4294967295xy");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

/* Every length around the growth points: printf formats in place when the
 * text fits and must grow, then format again, when it does not. */
START_TEST(test_buf_printf_across_growth)
{
	struct k8s_buf b = { 0 };
	char piece[600], *want = NULL, *got = NULL;
	size_t want_len = 0, n, i;
	FILE *f = open_memstream(&want, &want_len);

	ck_assert_ptr_nonnull(f);
	for (n = 0; n < sizeof(piece) - 1; n++) {
		for (i = 0; i < n; i++)
			piece[i] = (char)('a' + (n + i) % 26);
		piece[n] = '\0';
		k8s_buf_printf(&b, "%s|%zu;", piece, n);
		fprintf(f, "%s|%zu;", piece, n);
		ck_assert_uint_eq(b.len, strlen(b.data));
		ck_assert_uint_lt(b.len, b.cap);
	}
	fclose(f);
	ck_assert_int_eq(k8s_buf_take(&b, &got), 0);
	ck_assert_uint_eq(strlen(got), want_len);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}
END_TEST

START_TEST(test_buf_exact_fit)
{
	struct k8s_buf b = { 0 };
	char fill[300];

	k8s_buf_putc(&b, 'x');
	ck_assert_uint_eq(b.cap, 256);
	/* 254 more bytes leave exactly room for the NUL; 255 do not. */
	memset(fill, 'y', sizeof(fill));
	fill[254] = '\0';
	k8s_buf_printf(&b, "%s", fill);
	ck_assert_uint_eq(b.len, 255);
	ck_assert_uint_eq(b.cap, 256);
	k8s_buf_printf(&b, "%c", 'z');
	ck_assert_uint_eq(b.len, 256);
	ck_assert_uint_gt(b.cap, 256);
	ck_assert_int_eq(b.data[0], 'x');
	ck_assert_int_eq(b.data[254], 'y');
	ck_assert_int_eq(b.data[255], 'z');
	ck_assert_int_eq(b.data[256], '\0');
	k8s_buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_buf_oom_is_sticky)
{
	struct k8s_buf b = { 0 };
	char *s = (char *)"unchanged";

	k8s_buf_puts(&b, "kept");
	b.oom = true;                 /* as a failed allocation leaves it */
	k8s_buf_printf(&b, "%d", 1);
	k8s_buf_puts(&b, "lost");
	ck_assert_str_eq(b.data, "kept");
	ck_assert_int_eq(k8s_buf_take(&b, &s), -ENOMEM);
	ck_assert_str_eq(s, "unchanged");
	ck_assert_ptr_null(b.data);   /* freed */
	b.oom = true;
	ck_assert_ptr_null(k8s_buf_steal(&b));
	ck_assert(!b.oom);            /* empty again */
}
END_TEST

static char *vformat(const char *fmt, ...) _printf_(1, 2);
static char *vformat(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = k8s_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

START_TEST(test_asprintf)
{
	char *s = k8s_asprintf("%s/%s", "default", "web");
	char *long_one, *big;

	ck_assert_str_eq(s, "default/web");
	free(s);
	s = vformat("%s-%016llx", "pin", 0xabcULL);
	ck_assert_str_eq(s, "pin-0000000000000abc");
	free(s);
	big = malloc(5001);
	ck_assert_ptr_nonnull(big);
	memset(big, 'q', 5000);
	big[5000] = '\0';
	long_one = k8s_asprintf("<%s>", big);
	ck_assert_uint_eq(strlen(long_one), 5002);
	ck_assert_int_eq(long_one[0], '<');
	ck_assert_int_eq(long_one[5001], '>');
	free(long_one);
	free(big);
}
END_TEST

START_TEST(test_grow_keeps_elements)
{
	size_t *v = NULL, cap = 0, n;

	ck_assert_int_eq(k8s_grow(&v, &cap, 0, sizeof(*v)), 0);
	ck_assert_uint_eq(cap, 8);
	for (n = 0; n < 1000; n++) {
		ck_assert_int_eq(k8s_grow(&v, &cap, n, sizeof(*v)), 0);
		ck_assert_uint_gt(cap, n);
		v[n] = n * 3;
	}
	ck_assert_uint_eq(cap, 1024);
	for (n = 0; n < 1000; n++)
		ck_assert_uint_eq(v[n], n * 3);
	free(v);
}
END_TEST

START_TEST(test_grow_overflow_leaves_array)
{
	char *v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(k8s_grow(&v, &cap, 0, 1), 0);
	v[0] = 'k';
	cap = SIZE_MAX / 2 + 1;       /* doubling would wrap */
	ck_assert_int_eq(k8s_grow(&v, &cap, cap, 1), -ENOMEM);
	cap = 8;
	ck_assert_int_eq(k8s_grow(&v, &cap, 8, SIZE_MAX / 8), -ENOMEM);
	ck_assert_uint_eq(cap, 8);
	ck_assert_int_eq(v[0], 'k');
	free(v);
}
END_TEST

START_TEST(test_grow_pow2)
{
	unsigned *v = NULL;
	size_t n;

	for (n = 0; n < 5000; n++) {
		ck_assert_int_eq(k8s_grow_pow2(&v, n, sizeof(*v)), 0);
		v[n] = (unsigned)n + 7;
	}
	for (n = 0; n < 5000; n++)
		ck_assert_uint_eq(v[n], n + 7);
	ck_assert_int_eq(k8s_grow_pow2(&v, SIZE_MAX / 2 + 1, sizeof(*v)), -ENOMEM);
	ck_assert_uint_eq(v[4999], 5006);
	free(v);
}
END_TEST

START_TEST(test_hash_is_fnv1a)
{
	/* Values the library has always produced (hashed names in programmed
	 * rulesets depend on them): FNV-1a 64 from the historical seed. */
	ck_assert_uint_eq(k8s_hash_str(""), 1469598103934665603ULL);
	ck_assert_uint_eq(k8s_hash_str("a"), 0x44bd8ad473cd9906ULL);
	ck_assert_uint_eq(k8s_hash_str("foobar"), 0x88fad7c0a8ff07f2ULL);
	ck_assert_uint_eq(k8s_fnv1a(k8s_fnv1a(K8S_FNV1A_SEED, "foo"), "bar"),
			  k8s_hash_str("foobar"));
}
END_TEST

/* ---- k8s_map ---- */

START_TEST(test_map_empty)
{
	struct k8s_map m = { 0 };
	size_t idx = 7;

	ck_assert_ptr_null(k8s_map_get(&m, "a"));
	ck_assert_ptr_null(k8s_map_remove(&m, "a"));
	ck_assert(!k8s_map_get_index(&m, "a", &idx));
	ck_assert_uint_eq(idx, 7);
	ck_assert_uint_eq(k8s_map_count(&m), 0);
	k8s_map_free(&m, free);
	k8s_map_free(NULL, free);
}
END_TEST

START_TEST(test_map_put_get_replace_remove)
{
	struct k8s_map m = { 0 };
	char key[8] = "ns/a";
	int a, b;

	ck_assert_int_eq(k8s_map_put(&m, key, &a), 0);
	key[3] = 'z';   /* the map keeps its own copy of the key */
	ck_assert_ptr_eq(k8s_map_get(&m, "ns/a"), &a);
	ck_assert_ptr_null(k8s_map_get(&m, "ns/z"));
	ck_assert_ptr_null(k8s_map_get(&m, "ns/"));
	ck_assert_ptr_null(k8s_map_get(&m, ""));
	ck_assert_int_eq(k8s_map_put(&m, "ns/a", &b), 0);
	ck_assert_ptr_eq(k8s_map_get(&m, "ns/a"), &b);
	ck_assert_uint_eq(k8s_map_count(&m), 1);
	ck_assert_int_eq(k8s_map_put(&m, "", &a), 0);
	ck_assert_ptr_eq(k8s_map_get(&m, ""), &a);
	ck_assert_ptr_eq(k8s_map_remove(&m, "ns/a"), &b);
	ck_assert_ptr_null(k8s_map_get(&m, "ns/a"));
	ck_assert_ptr_null(k8s_map_remove(&m, "ns/a"));
	ck_assert_uint_eq(k8s_map_count(&m), 1);
	k8s_map_free(&m, NULL);
	ck_assert_uint_eq(k8s_map_count(&m), 0);
}
END_TEST

START_TEST(test_map_index)
{
	struct k8s_map m = { 0 };
	size_t idx = 99;

	ck_assert_int_eq(k8s_map_put_index(&m, "zero", 0), 0);
	ck_assert_int_eq(k8s_map_put_index(&m, "big", SIZE_MAX - 1), 0);
	ck_assert(k8s_map_get_index(&m, "zero", &idx));
	ck_assert_uint_eq(idx, 0);
	ck_assert(k8s_map_get_index(&m, "big", &idx));
	ck_assert_uint_eq(idx, SIZE_MAX - 1);
	k8s_map_remove(&m, "zero");
	ck_assert(!k8s_map_get_index(&m, "zero", &idx));
	k8s_map_free(&m, NULL);
}
END_TEST

/* Many keys through several doublings, half of them removed, the rest
 * replaced: every lookup and the walk see exactly what is left. */
START_TEST(test_map_grows_across_resizes)
{
	enum { N = 20000 };
	struct k8s_map m = { 0 };
	struct k8s_map_node *node;
	unsigned char *seen = calloc(N, 1);
	char key[32];
	size_t i, idx, walked = 0;

	ck_assert_ptr_nonnull(seen);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "default/svc-%zu", i);
		ck_assert_int_eq(k8s_map_put_index(&m, key, i), 0);
	}
	ck_assert_uint_eq(k8s_map_count(&m), N);
	ck_assert_uint_ge(m.nbuckets, N);
	for (i = 0; i < N; i += 2) {
		snprintf(key, sizeof(key), "default/svc-%zu", i);
		ck_assert_ptr_nonnull(k8s_map_remove(&m, key));
	}
	for (i = 1; i < N; i += 2) {
		snprintf(key, sizeof(key), "default/svc-%zu", i);
		ck_assert_int_eq(k8s_map_put_index(&m, key, i * 2), 0);
	}
	ck_assert_uint_eq(k8s_map_count(&m), N / 2);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "default/svc-%zu", i);
		ck_assert(k8s_map_get_index(&m, key, &idx) == (i % 2 == 1));
		if (i % 2)
			ck_assert_uint_eq(idx, i * 2);
	}
	k8s_map_for_each(&m, i, node) {
		size_t n = strtoul(node->key + strlen("default/svc-"), NULL, 10);

		ck_assert_uint_eq(n % 2, 1);
		ck_assert_uint_eq((uintptr_t)node->val - 1, n * 2);
		ck_assert(!seen[n]);
		seen[n] = 1;
		walked++;
	}
	ck_assert_uint_eq(walked, N / 2);
	free(seen);
	k8s_map_free(&m, NULL);
}
END_TEST

/* The walk visits buckets in order and each chain newest first: the NAT
 * layer renders by walking, so this order is part of its output. */
START_TEST(test_map_walk_order_is_by_hash)
{
	struct k8s_map m = { 0 };
	struct k8s_map_node *node;
	size_t i, prev = 0, n = 0;

	for (i = 0; i < 40; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%zu", i);
		ck_assert_int_eq(k8s_map_put(&m, key, NULL), 0);
	}
	ck_assert_uint_eq(m.nbuckets, 64);
	k8s_map_for_each(&m, i, node) {
		size_t b = (size_t)k8s_hash_str(node->key) % 64;

		ck_assert_uint_eq(b, i);
		ck_assert_uint_ge(b, prev);
		prev = b;
		n++;
	}
	ck_assert_uint_eq(n, 40);
	k8s_map_free(&m, NULL);
}
END_TEST

struct counted {
	int *freed;
};

static void counted_free(void *p)
{
	struct counted *c = p;

	(*c->freed)++;
	free(c);
}

START_TEST(test_map_free_calls_destructor)
{
	struct k8s_map m = { 0 };
	int freed = 0;
	size_t i;

	for (i = 0; i < 300; i++) {
		struct counted *c = malloc(sizeof(*c));
		char key[16];

		ck_assert_ptr_nonnull(c);
		c->freed = &freed;
		snprintf(key, sizeof(key), "p%zu", i);
		ck_assert_int_eq(k8s_map_put(&m, key, c), 0);
	}
	ck_assert_int_eq(k8s_map_put(&m, "no value", NULL), 0);
	counted_free(k8s_map_remove(&m, "p7"));
	ck_assert_int_eq(freed, 1);
	k8s_map_free(&m, counted_free);   /* skips the NULL value */
	ck_assert_int_eq(freed, 300);
	ck_assert_ptr_null(m.buckets);
	ck_assert_uint_eq(k8s_map_count(&m), 0);
	/* Freed maps can be used again. */
	ck_assert_int_eq(k8s_map_put(&m, "again", &freed), 0);
	ck_assert_ptr_eq(k8s_map_get(&m, "again"), &freed);
	k8s_map_free(&m, NULL);
}
END_TEST

static Suite *containers_suite(void)
{
	Suite *s = suite_create("containers");
	TCase *tc = tcase_create("strbuf");

	tcase_add_test(tc, test_buf_empty_take_is_empty_string);
	tcase_add_test(tc, test_buf_appends);
	tcase_add_test(tc, test_buf_printf_across_growth);
	tcase_add_test(tc, test_buf_exact_fit);
	tcase_add_test(tc, test_buf_oom_is_sticky);
	tcase_add_test(tc, test_asprintf);
	suite_add_tcase(s, tc);
	tc = tcase_create("vec");
	tcase_add_test(tc, test_grow_keeps_elements);
	tcase_add_test(tc, test_grow_overflow_leaves_array);
	tcase_add_test(tc, test_grow_pow2);
	tcase_add_test(tc, test_hash_is_fnv1a);
	suite_add_tcase(s, tc);
	tc = tcase_create("map");
	tcase_add_test(tc, test_map_empty);
	tcase_add_test(tc, test_map_put_get_replace_remove);
	tcase_add_test(tc, test_map_index);
	tcase_add_test(tc, test_map_grows_across_resizes);
	tcase_add_test(tc, test_map_walk_order_is_by_hash);
	tcase_add_test(tc, test_map_free_calls_destructor);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(containers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
