/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/internal.h"
struct pl_plan { int x; };
int pl_plan_build(struct k8snet_policy_db *db, const char *node, struct pl_plan **ret) { return -ENOTSUP; }
void pl_plan_free(struct pl_plan *p) { free(p); }
int pl_plan_render(const struct pl_plan *p, FILE *f) { return -ENOTSUP; }
