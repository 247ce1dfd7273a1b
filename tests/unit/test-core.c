/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the context, errors and version (no kernel changes). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <k8snet/k8snet.h>
#include "core/internal.h"

START_TEST(test_version)
{
	ck_assert_str_eq(k8snet_version(), K8SNET_VERSION_STRING);
	ck_assert_uint_eq(k8snet_version_num(), K8SNET_VERSION_NUM);
	ck_assert(K8SNET_AT_LEAST(0, 0, 1));
	ck_assert(K8SNET_AT_LEAST(K8SNET_VERSION_MAJOR, K8SNET_VERSION_MINOR, K8SNET_VERSION_PATCH));
	ck_assert(!K8SNET_AT_LEAST(K8SNET_VERSION_MAJOR + 1, 0, 0));
	ck_assert(!K8SNET_AT_LEAST(K8SNET_VERSION_MAJOR, K8SNET_VERSION_MINOR + 1, 0));
}
END_TEST

START_TEST(test_ctx_lifetime)
{
	struct k8snet_ctx *ctx = NULL;

	ck_assert_int_eq(k8snet_ctx_new(NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_ge(k8snet_ctx_get_netns_fd(ctx), 0);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "");
	ck_assert_int_eq(k8snet_ctx_get_errno(ctx), 0);
	ck_assert_ptr_null(k8snet_ctx_free(ctx));
	ck_assert_ptr_null(k8snet_ctx_free(NULL));
	k8snet_free(NULL);
}
END_TEST

/* Objects hold their own reference: the caller may drop the context first
 * (valgrind and ASan runs of this test catch a use after free). */
START_TEST(test_objects_outlive_ctx)
{
	struct k8snet_ipam_pool *pool = NULL;
	struct k8snet_proxy *proxy = NULL;
	struct k8snet_policy_db *db = NULL;
	struct k8snet_hostports *hp = NULL;
	struct k8snet_dns_zone *zone = NULL;
	struct k8snet_dns_resolv *resolv = NULL;
	struct k8snet_ctx *ctx = NULL, *held;
	char addr[64];

	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_ipam_pool_new(ctx, 0, &pool), 0);
	ck_assert_int_eq(k8snet_proxy_new(ctx, &proxy), 0);
	ck_assert_int_eq(k8snet_policy_db_new(ctx, &db), 0);
	ck_assert_int_eq(k8snet_hostports_new(ctx, &hp), 0);
	ck_assert_int_eq(k8snet_dns_zone_new(ctx, "cluster.local", &zone), 0);
	ck_assert_int_eq(k8snet_dns_resolv_new(ctx, &resolv), 0);
	held = k8snet_ctx_ref(ctx);
	ck_assert_ptr_eq(held, ctx);
	ck_assert_ptr_null(k8snet_ctx_free(ctx));     /* the caller's reference */
	ck_assert_ptr_null(k8snet_ctx_unref(held));   /* and the extra one */
	/* Every object still works, errors included (written to the context
	 * the objects keep alive). */
	ck_assert_int_lt(k8snet_proxy_load_json(proxy, "{", 1), 0);
	ck_assert_int_lt(k8snet_policy_db_load_json(db, "[", 1), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.244.1.0/24", NULL, NULL, NULL), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "c1", "eth0", NULL, addr, sizeof(addr)), 0);
	ck_assert_int_lt(k8snet_ipam_pool_add_range(pool, "10.244.1.0/33", NULL, NULL, NULL), 0);
	k8snet_ipam_pool_free(pool);
	k8snet_proxy_free(proxy);
	k8snet_policy_db_free(db);
	k8snet_hostports_free(hp);
	k8snet_dns_zone_free(zone);
	k8snet_dns_resolv_free(resolv);                /* the last reference */
	ck_assert_ptr_null(k8snet_ctx_ref(NULL));
	ck_assert_ptr_null(k8snet_ctx_unref(NULL));
}
END_TEST

/* After fork(), the child cannot reach the kernel or a state file through
 * the parent's context (its sockets and locks are the parent's). */
START_TEST(test_fork_is_echild)
{
	struct k8snet_ipam_pool *pool = NULL;
	struct k8snet_ctx *ctx = NULL;
	char path[] = "/tmp/k8st-core-fork-XXXXXX", state[64], addr[64];
	int status;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(path));
	snprintf(state, sizeof(state), "%s/pool.state", path);
	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_ipam_pool_new(ctx, 0, &pool), 0);
	ck_assert_int_eq(k8snet_ipam_pool_add_range(pool, "10.244.1.0/24", NULL, NULL, NULL), 0);
	ck_assert_int_eq(k8snet_ipam_pool_set_state_file(pool, state), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "parent", "eth0", NULL, addr, sizeof(addr)), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int bad = 0;

		if (k8snet_ctx_connect(ctx) != -ECHILD)
			bad |= 1;
		if (!strstr(k8snet_ctx_get_error(ctx), "fork"))
			bad |= 2;
		if (k8snet_ipam_pool_alloc(pool, "child", "eth0", NULL, addr, sizeof(addr)) != -ECHILD)
			bad |= 4;
		/* Freeing is fine in the child (closing its copies of the fds). */
		k8snet_ipam_pool_free(pool);
		k8snet_ctx_free(ctx);
		_exit(bad);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* The parent goes on as before. */
	ck_assert_int_eq(k8snet_ctx_connect(ctx), 0);
	ck_assert_int_eq(k8snet_ipam_pool_alloc(pool, "parent2", "eth0", NULL, addr, sizeof(addr)), 0);
	k8snet_ipam_pool_free(pool);
	k8snet_ctx_free(ctx);
	unlink(state);
	rmdir(path);
}
END_TEST

START_TEST(test_null_ctx_is_einval)
{
	ck_assert_int_eq(k8snet_ctx_set_netns_path(NULL, "/x"), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_set_netns_fd(NULL, 0), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_get_netns_fd(NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_connect(NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_set_log_fn(NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_set_log_priority(NULL, 3), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_get_log_priority(NULL), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_describe(NULL, NULL), -EINVAL);
	ck_assert_str_eq(k8snet_ctx_get_error(NULL), "");
	ck_assert_str_eq(k8snet_ctx_get_error_path(NULL), "");
	k8snet_ctx_clear_error(NULL);
}
END_TEST

START_TEST(test_bad_arguments_set_message)
{
	struct k8snet_ctx *ctx;
	char *json = (char *)"untouched";

	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_ctx_set_netns_path(ctx, NULL), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "invalid argument"));
	ck_assert_int_eq(k8snet_ctx_get_errno(ctx), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_set_netns_path(ctx, "/nonexistent/netns"), -ENOENT);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "/nonexistent/netns"));
	/* A regular file is not a namespace. */
	ck_assert_int_eq(k8snet_ctx_set_netns_path(ctx, "/proc/self/status"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(k8snet_ctx_get_error(ctx), "not a network namespace"));
	ck_assert_int_eq(k8snet_ctx_set_netns_fd(ctx, -1), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_set_netns_fd(ctx, STDIN_FILENO), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_set_log_priority(ctx, 99), -EINVAL);
	ck_assert_int_eq(k8snet_ctx_describe(ctx, NULL), -EINVAL);
	ck_assert_ptr_eq(json, (char *)"untouched");
	k8snet_ctx_clear_error(ctx);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "");
	ck_assert_int_eq(k8snet_ctx_get_errno(ctx), 0);
	k8snet_ctx_free(ctx);
}
END_TEST

START_TEST(test_error_path)
{
	struct k8snet_ctx *ctx;

	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8s_error_at(ctx, -ERANGE, "spec.ports[1].port", "%d out of range", 70000),
			 -ERANGE);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "spec.ports[1].port: 70000 out of range");
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "spec.ports[1].port");
	ck_assert_int_eq(k8s_error(ctx, -EIO, "plain"), -EIO);
	ck_assert_str_eq(k8snet_ctx_get_error(ctx), "plain");
	ck_assert_str_eq(k8snet_ctx_get_error_path(ctx), "");
	k8snet_ctx_free(ctx);
}
END_TEST

struct log_seen {
	int calls;
	int last_priority;
	char last[128];
};

static void log_cb(void *userdata, int priority, const char *message)
{
	struct log_seen *s = userdata;

	s->calls++;
	s->last_priority = priority;
	snprintf(s->last, sizeof(s->last), "%s", message);
}

START_TEST(test_log_callback_and_priority)
{
	struct log_seen seen = { 0 };
	struct k8snet_ctx *ctx;

	ck_assert_int_eq(k8snet_ctx_new(&ctx), 0);
	ck_assert_int_eq(k8snet_ctx_get_log_priority(ctx), LOG_ERR);
	ck_assert_int_eq(k8snet_ctx_set_log_fn(ctx, log_cb, &seen), 0);
	k8s_log(ctx, LOG_DEBUG, "hidden %d", 1);
	ck_assert_int_eq(seen.calls, 0);
	k8s_log(ctx, LOG_ERR, "shown %d", 2);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.last, "shown 2");
	ck_assert_int_eq(k8snet_ctx_set_log_priority(ctx, LOG_DEBUG), 0);
	k8s_log(ctx, LOG_DEBUG, "now %s", "visible");
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_int_eq(seen.last_priority, LOG_DEBUG);
	k8snet_ctx_free(ctx);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(k8snet_strerror(-EINVAL), k8snet_strerror(EINVAL));
	ck_assert_str_eq(k8snet_strerror(-ENOSPC), "No space left on device");
	ck_assert_str_eq(k8snet_strerror(-123456), "Unknown error");
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_ctx_lifetime);
	tcase_add_test(tc, test_objects_outlive_ctx);
	tcase_add_test(tc, test_fork_is_echild);
	tcase_add_test(tc, test_null_ctx_is_einval);
	tcase_add_test(tc, test_bad_arguments_set_message);
	tcase_add_test(tc, test_error_path);
	tcase_add_test(tc, test_log_callback_and_priority);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(core_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
