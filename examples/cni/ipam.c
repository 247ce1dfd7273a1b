/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPAM dispatch: host-local's configuration (and "k8snet") is served in
 * process by the library's IPAM layer, with no second exec; any other
 * ipam.type is delegated to that plugin through CNI_PATH. */
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "ipam-local.h"

int cni_ipam_lock(const struct cni_conf *conf, bool exclusive)
{
	/* A delegate keeps its own state, under its own lock. */
	if (!conf->ipam_type || !conf->ipam_in_process)
		return 0;
	return cni_ipam_local_lock(conf, exclusive);
}

void cni_ipam_unlock(void)
{
	cni_ipam_local_unlock();
}

void cni_ipam_undo_add(const struct cni_env *env, const struct cni_conf *conf)
{
	if (!conf->ipam_type)
		return;
	if (conf->ipam_in_process)
		cni_ipam_local_undo_add(env, conf);
	else
		cni_delegate(env, conf, conf->ipam_type, "DEL", NULL);
}

int cni_ipam_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_result *res)
{
	char *out = NULL;
	cJSON *json;
	int r;

	if (!conf->ipam_type)
		return 1;     /* no ipam: an interface with no address (chaining) */
	if (conf->ipam_in_process)
		return cni_ipam_local_add(env, conf, res);
	if (cni_delegate(env, conf, conf->ipam_type, "ADD", &out) < 0)
		return -1;
	json = cJSON_Parse(out);
	if (!json) {
		free(out);
		cni_delegate(env, conf, conf->ipam_type, "DEL", NULL);
		return cni_fail(CNI_ERR_DECODE, "decoding failure",
				"IPAM plugin %s printed no JSON result", conf->ipam_type);
	}
	r = cni_result_from_json(res, json, conf->ipam_type);
	cJSON_Delete(json);
	free(out);
	if (r < 0)
		cni_delegate(env, conf, conf->ipam_type, "DEL", NULL);
	return r < 0 ? -1 : 0;
}

int cni_ipam_del(const struct cni_env *env, const struct cni_conf *conf)
{
	if (!conf->ipam_type)
		return 0;
	if (conf->ipam_in_process)
		return cni_ipam_local_del(env, conf);
	return cni_delegate(env, conf, conf->ipam_type, "DEL", NULL);
}

int cni_ipam_check(const struct cni_env *env, const struct cni_conf *conf,
		   const struct cni_result *prev)
{
	if (!conf->ipam_type)
		return 0;
	if (conf->ipam_in_process)
		return cni_ipam_local_check(env, conf, prev);
	return cni_delegate(env, conf, conf->ipam_type, "CHECK", NULL);
}

int cni_ipam_gc(const struct cni_env *env, const struct cni_conf *conf)
{
	if (!conf->ipam_type)
		return 0;
	if (conf->ipam_in_process)
		return cni_ipam_local_gc(env, conf);
	return cni_delegate(env, conf, conf->ipam_type, "GC", NULL);
}

int cni_ipam_status(const struct cni_env *env, const struct cni_conf *conf)
{
	if (!conf->ipam_type)
		return 0;
	if (conf->ipam_in_process)
		return cni_ipam_local_status(env, conf);
	return cni_delegate(env, conf, conf->ipam_type, "STATUS", NULL);
}
