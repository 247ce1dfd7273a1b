/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared pieces of the k8snet command line tool. */
#ifndef K8SNET_CLI_H
#define K8SNET_CLI_H

#include <k8snet/k8snet.h>

/* Exit codes every subcommand uses. */
#define CLI_OK 0
#define CLI_FAIL 1   /* the operation failed (or: "deny", "invalid") */
#define CLI_USAGE 2  /* bad command line or bad input */

/* A subcommand: argv[0] is its own name. */
typedef int (*cli_run_fn)(int argc, char **argv);

/* Print "k8snet: WHAT: <context message or strerror>" on one line. */
int cli_report(const struct k8snet_ctx *ctx, int r, const char *what);
/* Print "k8snet: MESSAGE" on one line and return CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A new context bound to the namespace at path (NULL: the current one). */
int cli_ctx_new(const char *netns_path, struct k8snet_ctx **ret);
/* Whole file, or standard input for "-"; NUL-terminated; NULL on error (reported). */
char *cli_read_file(const char *path, size_t *ret_len);

int cli_netns(int argc, char **argv);
int cli_pod(int argc, char **argv);
int cli_bridge(int argc, char **argv);
int cli_node(int argc, char **argv);
int cli_dns(int argc, char **argv);
int cli_ipam(int argc, char **argv);
int cli_proxy(int argc, char **argv);
int cli_policy(int argc, char **argv);
int cli_hostport(int argc, char **argv);

#endif
