/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* In-process IPAM: host-local's ranges, routes and dataDir served by the
 * library's IPAM layer, one state file per network, locked by the library. */
#include <stdlib.h>
#include <string.h>

#include <k8snet/k8snet.h>

#include "ipam-local.h"

#if __has_include(<k8snet/ipam.h>)
#include <k8snet/ipam.h>
#error "to do"
#else
static int missing(void)
{
	return cni_fail(CNI_ERR_INTERNAL, "not supported by this build",
			"libk8snet was built without its IPAM layer (k8snet/ipam.h)");
}

int cni_ipam_local_add(const struct cni_env *env, const struct cni_conf *conf,
		       struct cni_result *res)
{
	(void)env; (void)conf; (void)res;
	return missing();
}

int cni_ipam_local_del(const struct cni_env *env, const struct cni_conf *conf)
{
	(void)env; (void)conf;
	return 0;
}

int cni_ipam_local_check(const struct cni_env *env, const struct cni_conf *conf,
			 const struct cni_result *prev)
{
	(void)env; (void)conf; (void)prev;
	return missing();
}

int cni_ipam_local_gc(const struct cni_env *env, const struct cni_conf *conf)
{
	(void)env; (void)conf;
	return 0;
}

int cni_ipam_local_status(const struct cni_env *env, const struct cni_conf *conf)
{
	(void)env; (void)conf;
	return cni_fail(CNI_ERR_NOT_AVAILABLE, "plugin not available",
			"libk8snet was built without its IPAM layer");
}
#endif
