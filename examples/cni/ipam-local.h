/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-process IPAM through the library (k8snet/ipam.h). */
#ifndef K8SNET_CNI_IPAM_LOCAL_H
#define K8SNET_CNI_IPAM_LOCAL_H

#include "cni.h"

int cni_ipam_local_lock(const struct cni_conf *conf, bool exclusive);
void cni_ipam_local_unlock(void);
int cni_ipam_local_add(const struct cni_env *env, const struct cni_conf *conf,
		       struct cni_result *res);
void cni_ipam_local_undo_add(const struct cni_env *env, const struct cni_conf *conf);
int cni_ipam_local_del(const struct cni_env *env, const struct cni_conf *conf);
int cni_ipam_local_check(const struct cni_env *env, const struct cni_conf *conf,
			 const struct cni_result *prev);
int cni_ipam_local_gc(const struct cni_env *env, const struct cni_conf *conf);
int cni_ipam_local_status(const struct cni_env *env, const struct cni_conf *conf);

#endif
