/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Health-check data (kube-proxy's pkg/proxy/healthcheck): a cloud load
 * balancer asks each node, on a service's healthCheckNodePort, whether it
 * has ready endpoints of a service with externalTrafficPolicy Local, and
 * skips nodes without any.  The library does not answer that port; it
 * keeps, per service, the port and the number of local ready endpoints,
 * and lists after each sync the services whose figures changed, so that a
 * daemon can update what it serves at the cost of what changed.
 */
#include <stdio.h>
#include <string.h>

#include "nat/internal.h"

static bool has_health(const struct k8snet_service *svc)
{
	return svc && svc->hc_node_port && (svc->flags & K8SNET_SERVICE_F_ETP_LOCAL) &&
	       svc->type != K8SNET_SERVICE_TYPE_EXTERNAL_NAME;
}

static bool is_local_ready(const struct k8snet_proxy *p, const struct nat_ep *e)
{
	return (e->flags & K8SNET_ENDPOINT_F_READY) && e->node && p->cfg.node_name &&
	       strcmp(e->node, p->cfg.node_name) == 0;
}

/* Distinct addresses: an endpoint serving several ports counts once. */
static int note_addr(struct k8s_map *seen, const struct nat_ep *e, uint32_t *count)
{
	char buf[INET6_ADDRSTRLEN];

	nat_addr_str(&e->addr, buf, sizeof(buf));
	if (k8s_map_get(seen, buf))
		return 0;
	(*count)++;
	return k8s_map_put(seen, buf, (void *)1);
}

static int local_ready(const struct k8snet_proxy *p, const struct nat_entry *e, uint32_t *ret)
{
	struct k8s_map seen = { 0 };
	struct k8s_map_node *n;
	size_t i, j;
	int r = 0;

	*ret = 0;
	for (i = 0; i < e->svc->neps && r >= 0; i++)
		if (is_local_ready(p, &e->svc->eps[i]))
			r = note_addr(&seen, &e->svc->eps[i], ret);
	k8s_map_for_each(&e->slices, i, n) {
		const struct nat_slice *sl = n->val;

		for (j = 0; j < sl->neps && r >= 0; j++)
			if (is_local_ready(p, &sl->eps[j]))
				r = note_addr(&seen, &sl->eps[j], ret);
	}
	k8s_map_free(&seen, NULL);
	return r;
}

void nat_health_clear(struct k8snet_proxy *p)
{
	nat_ptrvec_free(&p->hc_changed, free);
}

int nat_health_update(struct k8snet_proxy *p)
{
	size_t i;
	int r = 0;

	nat_health_clear(p);
	for (i = 0; i < p->dirty.n && r >= 0; i++) {
		struct nat_entry *e = p->dirty.v[i];
		bool hc = has_health(e->svc);
		uint32_t port = hc ? e->svc->hc_node_port : 0, local = 0;
		char *key;

		if (hc)
			r = local_ready(p, e, &local);
		if (r < 0 || (hc == e->hc && port == e->hc_port && local == e->hc_local))
			continue;
		e->hc = hc;
		e->hc_port = port;
		e->hc_local = local;
		key = strdup(e->key);
		if (!key || nat_ptrvec_push(&p->hc_changed, key) < 0) {
			free(key);
			r = -ENOMEM;
		}
	}
	return r;
}

K8SNET_EXPORT int k8snet_proxy_get_health(const struct k8snet_proxy *p, const char *ns,
					  const char *name, uint32_t *ret_node_port,
					  uint32_t *ret_local_endpoints)
{
	const struct nat_entry *e;
	char *key;

	K8S_FORK_GUARD(p);
	if (!p || !name)
		return -EINVAL;
	if (asprintf(&key, "%s/%s", ns ? ns : "default", name) < 0)
		return -ENOMEM;
	e = k8s_map_get(&p->entries, key);
	free(key);
	if (!e || !e->hc)
		return -ENOENT;
	if (ret_node_port)
		*ret_node_port = e->hc_port;
	if (ret_local_endpoints)
		*ret_local_endpoints = e->hc_local;
	return 0;
}

K8SNET_EXPORT int k8snet_proxy_get_health_changed_count(const struct k8snet_proxy *p)
{
	K8S_FORK_GUARD(p);
	if (!p)
		return -EINVAL;
	return p->hc_changed.n > INT32_MAX ? INT32_MAX : (int)p->hc_changed.n;
}

K8SNET_EXPORT int k8snet_proxy_get_health_changed(const struct k8snet_proxy *p, uint32_t index,
						  const char **ret_service)
{
	K8S_FORK_GUARD(p);
	if (!p || !ret_service)
		return -EINVAL;
	if (index >= p->hc_changed.n)
		return -ENOENT;
	*ret_service = p->hc_changed.v[index];
	return 0;
}
