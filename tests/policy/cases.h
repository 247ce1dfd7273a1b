/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NetworkPolicy conformance suite (tests/policy/netpol-e2e.json) as a
 * driver shared by the evaluator test and the kernel test. */
#ifndef K8SNET_TEST_POLICY_CASES_H
#define K8SNET_TEST_POLICY_CASES_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <k8snet/k8snet.h>

#define PC_NPODS 9
extern const char *const pc_pods[PC_NPODS];   /* "x/a" .. "z/c" */

/* The address of a pod of the world ("10.244.1.11"). */
const char *pc_pod_ip(const cJSON *doc, const char *pod);

/* Called after each step, with the database as it stands. Return 0 to go on. */
typedef int (*pc_step_fn)(void *userdata, struct k8snet_policy_db *db, const char *case_name,
			  int step, const cJSON *probes);

cJSON *pc_load(const char *path);
/* Runs every case; returns the first nonzero return of fn, or -1 on a setup error. */
int pc_run(struct k8snet_ctx *ctx, const cJSON *doc, pc_step_fn fn, void *userdata);
/* The expected verdict of a probe for from -> to. */
bool pc_expected(const cJSON *probe, const char *from, const char *to);

#endif
