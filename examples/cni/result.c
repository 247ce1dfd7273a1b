/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI results: one in-memory shape, read from any supported version (a
 * prevResult, an IPAM delegate's answer) and written in the version the
 * configuration asked for. */
#include <stdlib.h>
#include <string.h>

#include "cni.h"

int cni_result_add_iface(struct cni_result *res, const char *name, const char *mac,
			 const char *sandbox, int mtu)
{
	struct cni_iface *i;

	res->ifaces = cni_xrealloc_array(res->ifaces, res->n_ifaces + 1, sizeof(*res->ifaces));
	i = &res->ifaces[res->n_ifaces];
	i->name = cni_strdup(name);
	i->mac = cni_strdup(mac);
	i->sandbox = cni_strdup(sandbox);
	i->mtu = mtu;
	return (int)res->n_ifaces++;
}

int cni_result_add_ip(struct cni_result *res, const char *address, const char *gateway,
		      int iface)
{
	struct cni_ip *ip;

	res->ips = cni_xrealloc_array(res->ips, res->n_ips + 1, sizeof(*res->ips));
	ip = &res->ips[res->n_ips++];
	ip->address = cni_strdup(address);
	ip->gateway = cni_strdup(gateway);
	ip->iface = iface;
	return 0;
}

int cni_result_add_route(struct cni_result *res, const char *dst, const char *gw)
{
	struct cni_route *rt;

	res->routes = cni_xrealloc_array(res->routes, res->n_routes + 1, sizeof(*res->routes));
	rt = &res->routes[res->n_routes++];
	memset(rt, 0, sizeof(*rt));
	rt->dst = cni_strdup(dst);
	rt->gw = cni_strdup(gw);
	rt->scope = -1;
	return 0;
}

static int bad_item(const char *what, const char *path, size_t i, const char *msg)
{
	return cni_fail(CNI_ERR_DECODE, "decoding failure", "%s.%s[%zu]: %s", what, path, i, msg);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int num(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* Over CNI_MAX_RESULT_ITEMS: a result this plugin never wrote. */
static int check_count(const cJSON *json, const char *what, const char *key)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(json, key);

	if (cJSON_IsArray(arr) && cJSON_GetArraySize(arr) > CNI_MAX_RESULT_ITEMS)
		return cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config",
				"%s.%s: %d items, more than the limit of %d", what, key,
				cJSON_GetArraySize(arr), CNI_MAX_RESULT_ITEMS);
	return 0;
}

int cni_result_from_json(struct cni_result *res, const cJSON *json, const char *what)
{
	const cJSON *arr, *o;
	size_t i;

	if (!cJSON_IsObject(json))
		return cni_fail(CNI_ERR_DECODE, "decoding failure", "%s: not an object", what);
	if (check_count(json, what, "interfaces") < 0 || check_count(json, what, "ips") < 0 ||
	    check_count(json, what, "routes") < 0)
		return -1;
	i = 0;
	arr = cJSON_GetObjectItemCaseSensitive(json, "interfaces");
	cJSON_ArrayForEach(o, arr) {
		if (!str(o, "name"))
			return bad_item(what, "interfaces", i, "name missing");
		cni_result_add_iface(res, str(o, "name"), str(o, "mac"), str(o, "sandbox"),
				     num(o, "mtu", 0));
		i++;
	}
	i = 0;
	arr = cJSON_GetObjectItemCaseSensitive(json, "ips");
	cJSON_ArrayForEach(o, arr) {
		int idx = num(o, "interface", -1);

		if (!str(o, "address"))
			return bad_item(what, "ips", i, "address missing");
		if (idx >= (int)res->n_ifaces)
			return bad_item(what, "ips", i, "interface index out of range");
		cni_result_add_ip(res, str(o, "address"), str(o, "gateway"), idx);
		i++;
	}
	i = 0;
	arr = cJSON_GetObjectItemCaseSensitive(json, "routes");
	cJSON_ArrayForEach(o, arr) {
		struct cni_route *rt;

		if (!str(o, "dst"))
			return bad_item(what, "routes", i, "dst missing");
		cni_result_add_route(res, str(o, "dst"), str(o, "gw"));
		rt = &res->routes[res->n_routes - 1];
		rt->mtu = num(o, "mtu", 0);
		rt->advmss = num(o, "advmss", 0);
		rt->priority = num(o, "priority", 0);
		rt->table = num(o, "table", 0);
		rt->scope = num(o, "scope", -1);
		i++;
	}
	o = cJSON_GetObjectItemCaseSensitive(json, "dns");
	if (cJSON_IsObject(o) && o->child)
		res->dns = cJSON_Duplicate(o, 1);
	return 0;
}

static void put_route(cJSON *arr, const struct cni_route *rt, bool v11)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "dst", rt->dst);
	if (rt->gw)
		cJSON_AddStringToObject(o, "gw", rt->gw);
	if (v11) {
		if (rt->mtu)
			cJSON_AddNumberToObject(o, "mtu", rt->mtu);
		if (rt->advmss)
			cJSON_AddNumberToObject(o, "advmss", rt->advmss);
		if (rt->priority)
			cJSON_AddNumberToObject(o, "priority", rt->priority);
		if (rt->table)
			cJSON_AddNumberToObject(o, "table", rt->table);
		if (rt->scope >= 0)
			cJSON_AddNumberToObject(o, "scope", rt->scope);
	}
	cJSON_AddItemToArray(arr, o);
}

cJSON *cni_result_to_json(const struct cni_result *res, const char *version)
{
	bool v04 = cni_version_cmp(version, "1.0.0") < 0;
	bool v11 = cni_version_cmp(version, "1.1.0") >= 0;
	cJSON *out = cJSON_CreateObject(), *arr, *o;
	size_t i;

	cJSON_AddStringToObject(out, "cniVersion", version);
	if (res->n_ifaces) {
		arr = cJSON_AddArrayToObject(out, "interfaces");
		for (i = 0; i < res->n_ifaces; i++) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", res->ifaces[i].name);
			if (res->ifaces[i].mac)
				cJSON_AddStringToObject(o, "mac", res->ifaces[i].mac);
			if (v11 && res->ifaces[i].mtu)
				cJSON_AddNumberToObject(o, "mtu", res->ifaces[i].mtu);
			if (res->ifaces[i].sandbox && *res->ifaces[i].sandbox)
				cJSON_AddStringToObject(o, "sandbox", res->ifaces[i].sandbox);
			cJSON_AddItemToArray(arr, o);
		}
	}
	if (res->n_ips) {
		arr = cJSON_AddArrayToObject(out, "ips");
		for (i = 0; i < res->n_ips; i++) {
			const struct cni_ip *ip = &res->ips[i];

			o = cJSON_CreateObject();
			/* 0.4.0 names the family; 1.0.0 dropped the field. */
			if (v04)
				cJSON_AddStringToObject(o, "version",
							strchr(ip->address, ':') ? "6" : "4");
			if (ip->iface >= 0)
				cJSON_AddNumberToObject(o, "interface", ip->iface);
			cJSON_AddStringToObject(o, "address", ip->address);
			if (ip->gateway)
				cJSON_AddStringToObject(o, "gateway", ip->gateway);
			cJSON_AddItemToArray(arr, o);
		}
	}
	if (res->n_routes) {
		arr = cJSON_AddArrayToObject(out, "routes");
		for (i = 0; i < res->n_routes; i++)
			put_route(arr, &res->routes[i], v11);
	}
	cJSON_AddItemToObject(out, "dns", res->dns ? cJSON_Duplicate(res->dns, 1) :
			      cJSON_CreateObject());
	return out;
}

int cni_result_merge(struct cni_result *dst, const struct cni_result *src)
{
	size_t base = dst->n_ifaces, i;

	for (i = 0; i < src->n_ifaces; i++)
		cni_result_add_iface(dst, src->ifaces[i].name, src->ifaces[i].mac,
				     src->ifaces[i].sandbox, src->ifaces[i].mtu);
	for (i = 0; i < src->n_ips; i++)
		cni_result_add_ip(dst, src->ips[i].address, src->ips[i].gateway,
				  src->ips[i].iface < 0 ? -1 : (int)base + src->ips[i].iface);
	for (i = 0; i < src->n_routes; i++) {
		struct cni_route *rt;

		cni_result_add_route(dst, src->routes[i].dst, src->routes[i].gw);
		rt = &dst->routes[dst->n_routes - 1];
		rt->mtu = src->routes[i].mtu;
		rt->advmss = src->routes[i].advmss;
		rt->priority = src->routes[i].priority;
		rt->table = src->routes[i].table;
		rt->scope = src->routes[i].scope;
	}
	if (src->dns) {
		cJSON_Delete(dst->dns);
		dst->dns = cJSON_Duplicate(src->dns, 1);
	}
	return 0;
}

void cni_result_done(struct cni_result *res)
{
	size_t i;

	for (i = 0; i < res->n_ifaces; i++) {
		free(res->ifaces[i].name);
		free(res->ifaces[i].mac);
		free(res->ifaces[i].sandbox);
	}
	for (i = 0; i < res->n_ips; i++) {
		free(res->ips[i].address);
		free(res->ips[i].gateway);
	}
	for (i = 0; i < res->n_routes; i++)
		cni_route_done(&res->routes[i]);
	free(res->ifaces);
	free(res->ips);
	free(res->routes);
	cJSON_Delete(res->dns);
	memset(res, 0, sizeof(*res));
}
