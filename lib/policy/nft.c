/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/internal.h"
int pl_nft_sync(struct k8snet_policy_db *db, struct pl_plan *plan) { return -ENOTSUP; }
