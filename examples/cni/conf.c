/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The invocation (CNI_* environment) and the network configuration (stdin):
 * the reference bridge plugin's keys, host-local's ipam section, and the
 * runtimeConfig capabilities this plugin declares (portMappings, ips). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"

void cni_oom(void)
{
	fputs("k8snet-cni: out of memory\n", stderr);
	exit(1);
}

void *cni_xrealloc_array(void *p, size_t n, size_t size)
{
	void *q = n && size ? reallocarray(p, n, size) : p;

	if (!q && n && size)
		cni_oom();
	return q;
}

void *cni_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		cni_oom();
	return p;
}

char *cni_strdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		cni_oom();
	return d;
}

char *cni_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		cni_oom();
	return s;
}

const char *const cni_supported_versions[] = { "0.4.0", "1.0.0", "1.1.0", NULL };

bool cni_version_supported(const char *v)
{
	size_t i;

	for (i = 0; cni_supported_versions[i]; i++)
		if (strcmp(v, cni_supported_versions[i]) == 0)
			return true;
	return false;
}

int cni_version_cmp(const char *a, const char *b)
{
	unsigned va[3] = { 0 }, vb[3] = { 0 };
	int i;

	sscanf(a, "%u.%u.%u", &va[0], &va[1], &va[2]);
	sscanf(b, "%u.%u.%u", &vb[0], &vb[1], &vb[2]);
	for (i = 0; i < 3; i++)
		if (va[i] != vb[i])
			return va[i] < vb[i] ? -1 : 1;
	return 0;
}

/* ---- environment ------------------------------------------------------- */

static bool valid_container_id(const char *s)
{
	/* The spec: non-empty, starts alphanumeric, then alphanumerics, _ . - */
	if (!*s || !isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return false;
	return true;
}

/* An environment variable over its limit. */
static int too_long(const char *var, size_t len, size_t max)
{
	return cni_fail(CNI_ERR_INVALID_ENV, "environment variable too long",
			"%s: %zu bytes, more than the limit of %zu", var, len, max);
}

static int parse_cni_args(struct cni_env *env)
{
	char *copy, *save = NULL, *tok;
	int r = 0;

	if (!env->args || !*env->args)
		return 0;
	copy = cni_strdup(env->args);
	for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok) {
			r = cni_fail(CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
				     "\"%s\" is not KEY=VALUE", tok);
			break;
		}
		*eq = '\0';
		if (strcmp(tok, "IP") == 0 && env->arg_ip) {
			r = cni_fail(CNI_ERR_INVALID_ENV, "invalid CNI_ARGS", "IP: given twice");
			break;
		}
		/* Unknown keys are ignored, as with IgnoreUnknown=1: runtimes
		 * pass Kubernetes keys to every plugin. */
		if (strcmp(tok, "IP") == 0)
			env->arg_ip = cni_strdup(eq + 1);
		else if (strcmp(tok, "K8S_POD_NAMESPACE") == 0)
			env->pod_namespace = cni_strdup(eq + 1);
		else if (strcmp(tok, "K8S_POD_NAME") == 0)
			env->pod_name = cni_strdup(eq + 1);
	}
	free(copy);
	return r;
}

int cni_env_parse(struct cni_env *env)
{
	const char *missing[4];
	size_t n = 0, i;
	bool add_check, del;
	char *list = NULL;

	env->netns_fd = -1;
	env->command = getenv("CNI_COMMAND");
	env->container_id = getenv("CNI_CONTAINERID");
	env->netns = getenv("CNI_NETNS");
	env->ifname = getenv("CNI_IFNAME");
	env->args = getenv("CNI_ARGS");
	env->path = getenv("CNI_PATH");
	if (env->netns && !*env->netns)
		env->netns = NULL;
	if (!env->command || !*env->command)
		return cni_fail(CNI_ERR_INVALID_ENV, "required env variables [CNI_COMMAND] missing",
				NULL);
	add_check = !strcmp(env->command, "ADD") || !strcmp(env->command, "CHECK");
	del = !strcmp(env->command, "DEL");
	if ((add_check || del) && (!env->container_id || !*env->container_id))
		missing[n++] = "CNI_CONTAINERID";
	if (add_check && !env->netns)
		missing[n++] = "CNI_NETNS";
	if ((add_check || del) && (!env->ifname || !*env->ifname))
		missing[n++] = "CNI_IFNAME";
	if (n) {
		list = cni_strdup("");
		for (i = 0; i < n; i++) {
			char *l = cni_asprintf("%s%s%s", list, i ? " " : "", missing[i]);

			free(list);
			list = l;
		}
		cni_fail(CNI_ERR_INVALID_ENV, "required env variables missing", "[%s]", list);
		free(list);
		return -1;
	}
	if (env->container_id && (add_check || del) && strlen(env->container_id) > CNI_MAX_CONTAINERID)
		return too_long("CNI_CONTAINERID", strlen(env->container_id), CNI_MAX_CONTAINERID);
	if (env->container_id && (add_check || del) && !valid_container_id(env->container_id))
		return cni_fail(CNI_ERR_INVALID_ENV, "invalid characters in containerID",
				"CNI_CONTAINERID=%s", env->container_id);
	if (env->netns && add_check && strlen(env->netns) > CNI_MAX_PATH)
		return too_long("CNI_NETNS", strlen(env->netns), CNI_MAX_PATH);
	if (env->path && strlen(env->path) > CNI_MAX_CNI_PATH)
		return too_long("CNI_PATH", strlen(env->path), CNI_MAX_CNI_PATH);
	if (env->args && strlen(env->args) > CNI_MAX_ARGS_BYTES) {
		/* DEL never fails on a limit: ADD refused these, so no pod holds
		 * anything they would name; CNI_ARGS only matters to ADD. */
		if (del)
			env->args = NULL;
		else
			return too_long("CNI_ARGS", strlen(env->args), CNI_MAX_ARGS_BYTES);
	}
	if (env->ifname && (add_check || del) && !valid_ifname(env->ifname))
		return cni_fail(CNI_ERR_INVALID_ENV, "invalid interface name",
				"CNI_IFNAME=%s: 1..15 characters, no '/', ':' or spaces",
				env->ifname);
	return parse_cni_args(env);
}

void cni_env_done(struct cni_env *env)
{
	free(env->arg_ip);
	free(env->pod_namespace);
	free(env->pod_name);
}

/* ---- typed getters: every error names the field ------------------------- */

static int bad(const char *path, const char *what)
{
	return cni_fail(CNI_ERR_INVALID_CONFIG, "invalid network config", "%s: %s", path, what);
}

static int get_str(const cJSON *obj, const char *key, const char *path, bool required,
		   const char **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v)) {
		if (required)
			return bad(path, "missing");
		return 0;
	}
	if (!cJSON_IsString(v))
		return bad(path, "must be a string");
	*ret = v->valuestring;
	return 0;
}

static int get_bool(const cJSON *obj, const char *key, bool *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return bad(key, "must be true or false");
	*ret = cJSON_IsTrue(v);
	return 0;
}

static int get_int(const cJSON *v, const char *path, int lo, int hi, int *ret)
{
	if (!cJSON_IsNumber(v))
		return bad(path, "must be an integer");
	/* Range first: casting a huge double to an integer is undefined. */
	if (!(v->valuedouble >= lo && v->valuedouble <= hi)) {
		char *m = cni_asprintf("%.0f out of range: must be %d..%d", v->valuedouble, lo, hi);

		bad(path, m);
		free(m);
		return -1;
	}
	if (v->valuedouble != (double)(int)v->valuedouble)
		return bad(path, "must be an integer");
	*ret = (int)v->valuedouble;
	return 0;
}

static int check_cidr(const char *s, const char *path)
{
	char *copy = cni_strdup(s), *slash = strchr(copy, '/');
	unsigned char buf[16];
	int ok = 0, max;
	char *end;
	long len;

	if (slash) {
		*slash = '\0';
		max = strchr(copy, ':') ? 128 : 32;
		ok = inet_pton(max == 128 ? AF_INET6 : AF_INET, copy, buf) == 1;
		len = strtol(slash + 1, &end, 10);
		ok = ok && slash[1] != '\0' && !*end && len >= 0 && len <= max;
	}
	free(copy);
	if (!ok) {
		char *m = cni_asprintf("\"%s\" is not a CIDR (ADDRESS/PREFIX)", s);

		bad(path, m);
		free(m);
		return -1;
	}
	return 0;
}

static int check_ip(const char *s, const char *path)
{
	unsigned char buf[16];

	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, buf) != 1) {
		char *m = cni_asprintf("\"%s\" is not an IP address", s);

		bad(path, m);
		free(m);
		return -1;
	}
	return 0;
}

/* ---- bridge keys ------------------------------------------------------- */

static int parse_bridge(struct cni_conf *c)
{
	static const char *const unsupported[] = { "vlan", "vlanTrunk", "macspoofchk",
						     "preserveDefaultVlan", "enabledad" };
	const cJSON *v;
	size_t i;

	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		v = cJSON_GetObjectItemCaseSensitive(c->root, unsupported[i]);
		if (v && !cJSON_IsNull(v) && !cJSON_IsFalse(v) &&
		    !(cJSON_IsNumber(v) && v->valuedouble == 0))
			return cni_fail(CNI_ERR_UNSUPPORTED_FIELD, "unsupported field",
					"%s: not supported by k8snet-cni", unsupported[i]);
	}
	c->bridge = "cni0";
	c->snat = true;
	if (get_str(c->root, "bridge", "bridge", false, &c->bridge) < 0)
		return -1;
	if (!valid_ifname(c->bridge))
		return bad("bridge", "must be an interface name: 1..15 characters, no '/', ':', "
			   "spaces or control characters");
	if (get_bool(c->root, "isGateway", &c->is_gateway) < 0 ||
	    get_bool(c->root, "isDefaultGateway", &c->is_default_gateway) < 0 ||
	    get_bool(c->root, "forceAddress", &c->force_address) < 0 ||
	    get_bool(c->root, "ipMasq", &c->ip_masq) < 0 ||
	    get_bool(c->root, "snat", &c->snat) < 0 ||
	    get_bool(c->root, "hairpinMode", &c->hairpin_mode) < 0 ||
	    get_bool(c->root, "promiscMode", &c->promisc_mode) < 0)
		return -1;
	/* As the reference plugin: a default gateway is a gateway. */
	if (c->is_default_gateway)
		c->is_gateway = true;
	v = cJSON_GetObjectItemCaseSensitive(c->root, "mtu");
	if (v && !cJSON_IsNull(v) && get_int(v, "mtu", 0, 65535, &c->mtu) < 0)
		return -1;
	if (c->mtu && c->mtu < 68)
		return bad("mtu", "must be 0 (default) or 68..65535");
	return 0;
}

/* ---- ipam -------------------------------------------------------------- */

/* An array over its limit. */
static int too_many(const char *path, int n, int max, const char *what)
{
	char *m = cni_asprintf("%d %s, more than the limit of %d", n, what, max);

	bad(path, m);
	free(m);
	return -1;
}

static int parse_range(const cJSON *o, const char *path, struct cni_range *r)
{
	const char *s = NULL;
	char *p;
	int ret = 0;

	if (!cJSON_IsObject(o))
		return bad(path, "must be an object");
#define FIELD(key, dst, required, check)                                        \
	do {                                                                   \
		s = NULL;                                                      \
		p = cni_asprintf("%s.%s", path, key);                          \
		ret = get_str(o, key, p, required, &s);                        \
		if (ret >= 0 && s)                                             \
			ret = check(s, p);                                     \
		free(p);                                                       \
		if (ret < 0)                                                   \
			return -1;                                             \
		dst = cni_strdup(s);                                           \
	} while (0)
	FIELD("subnet", r->subnet, true, check_cidr);
	FIELD("rangeStart", r->range_start, false, check_ip);
	FIELD("rangeEnd", r->range_end, false, check_ip);
	FIELD("gateway", r->gateway, false, check_ip);
#undef FIELD
	return 0;
}

static int parse_ranges(struct cni_conf *c, const cJSON *ipam)
{
	const cJSON *sets = cJSON_GetObjectItemCaseSensitive(ipam, "ranges"), *set, *o;
	size_t i = 0, j;
	char *p;

	if (!sets && cJSON_GetObjectItemCaseSensitive(ipam, "subnet")) {
		/* host-local's older single-range form: the keys on ipam itself. */
		c->range_sets = cni_xrealloc_array(NULL, 1, sizeof(*c->range_sets));
		c->n_range_sets = 1;
		c->range_sets[0].ranges = cni_xcalloc(1, sizeof(struct cni_range));
		c->range_sets[0].n_ranges = 1;
		return parse_range(ipam, "ipam", &c->range_sets[0].ranges[0]);
	}
	if (!cJSON_IsArray(sets) || cJSON_GetArraySize(sets) == 0)
		return bad("ipam.ranges", "missing: needs at least one range set");
	if (cJSON_GetArraySize(sets) > CNI_MAX_RANGE_SETS)
		return too_many("ipam.ranges", cJSON_GetArraySize(sets), CNI_MAX_RANGE_SETS,
				"range sets");
	c->range_sets = cni_xcalloc((size_t)cJSON_GetArraySize(sets), sizeof(*c->range_sets));
	cJSON_ArrayForEach(set, sets) {
		struct cni_range_set *rs = &c->range_sets[i];

		c->n_range_sets = i + 1;
		if (!cJSON_IsArray(set) || cJSON_GetArraySize(set) == 0 ||
		    cJSON_GetArraySize(set) > CNI_MAX_RANGES) {
			p = cni_asprintf("ipam.ranges[%zu]", i);
			if (cJSON_IsArray(set) && cJSON_GetArraySize(set) > CNI_MAX_RANGES)
				too_many(p, cJSON_GetArraySize(set), CNI_MAX_RANGES, "ranges");
			else
				bad(p, "must be a non-empty array of ranges");
			free(p);
			return -1;
		}
		rs->ranges = cni_xcalloc((size_t)cJSON_GetArraySize(set), sizeof(*rs->ranges));
		j = 0;
		cJSON_ArrayForEach(o, set) {
			int r;

			rs->n_ranges = j + 1;
			p = cni_asprintf("ipam.ranges[%zu][%zu]", i, j);
			r = parse_range(o, p, &rs->ranges[j]);
			free(p);
			if (r < 0)
				return -1;
			j++;
		}
		i++;
	}
	return 0;
}

static int parse_routes(const cJSON *arr, const char *path, struct cni_route **ret,
			size_t *ret_n)
{
	const cJSON *o;
	size_t i = 0;
	char *p;

	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return bad(path, "must be an array");
	if (cJSON_GetArraySize(arr) > CNI_MAX_ROUTES)
		return too_many(path, cJSON_GetArraySize(arr), CNI_MAX_ROUTES, "routes");
	*ret = cni_xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**ret));
	cJSON_ArrayForEach(o, arr) {
		struct cni_route *rt = &(*ret)[i];
		const char *dst = NULL, *gw = NULL;
		int r;

		rt->scope = -1;
		*ret_n = i + 1;
		p = cni_asprintf("%s[%zu].dst", path, i);
		r = cJSON_IsObject(o) ? get_str(o, "dst", p, true, &dst) : bad(p, "missing");
		if (r >= 0)
			r = check_cidr(dst, p);
		free(p);
		if (r < 0)
			return -1;
		p = cni_asprintf("%s[%zu].gw", path, i);
		r = get_str(o, "gw", p, false, &gw);
		if (r >= 0 && gw)
			r = check_ip(gw, p);
		free(p);
		if (r < 0)
			return -1;
		rt->dst = cni_strdup(dst);
		rt->gw = cni_strdup(gw);
		i++;
	}
	return 0;
}

static int add_requested_ips(struct cni_conf *c, const cJSON *arr, const char *path)
{
	const cJSON *v;
	size_t i = 0;

	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr))
		return bad(path, "must be an array of addresses");
	if (cJSON_GetArraySize(arr) > CNI_MAX_REQUESTED_IPS)
		return too_many(path, cJSON_GetArraySize(arr), CNI_MAX_REQUESTED_IPS, "addresses");
	cJSON_ArrayForEach(v, arr) {
		char *p = cni_asprintf("%s[%zu]", path, i++);
		char *ip;
		int r = cJSON_IsString(v) ? 0 : bad(p, "must be a string");

		if (r >= 0) {
			/* Accept 10.0.0.5 and 10.0.0.5/24 alike. */
			ip = cni_strdup(v->valuestring);
			if (strchr(ip, '/'))
				*strchr(ip, '/') = '\0';
			r = check_ip(ip, p);
			if (r >= 0) {
				c->requested_ips = cni_xrealloc_array(c->requested_ips,
								      c->n_requested_ips + 1,
								      sizeof(char *));
				c->requested_ips[c->n_requested_ips++] = ip;
			} else
				free(ip);
		}
		free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* A plugin name found in CNI_PATH: a file name, no path. */
static bool valid_plugin_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > CNI_MAX_PLUGIN_NAME || *s == '.')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* host-local's dataDir: "" (or none) means the default; otherwise an
 * absolute path, since a relative one would follow the runtime's working
 * directory. */
static int check_data_dir(struct cni_conf *c)
{
	if (!c->data_dir)
		return 0;
	if (!*c->data_dir) {
		c->data_dir = NULL;
		return 0;
	}
	if (c->data_dir[0] != '/')
		return bad("ipam.dataDir", "must be an absolute path");
	if (strlen(c->data_dir) > CNI_MAX_PATH)
		return too_many("ipam.dataDir", (int)strlen(c->data_dir), CNI_MAX_PATH, "bytes");
	return 0;
}

static int parse_ipam(struct cni_conf *c, const struct cni_env *env)
{
	const cJSON *ipam = cJSON_GetObjectItemCaseSensitive(c->root, "ipam");
	const cJSON *args;
	char *copy, *tok, *save = NULL;

	if (!ipam || cJSON_IsNull(ipam))
		return 0;
	if (!cJSON_IsObject(ipam))
		return bad("ipam", "must be an object");
	if (get_str(ipam, "type", "ipam.type", true, &c->ipam_type) < 0)
		return -1;
	if (!valid_plugin_name(c->ipam_type))
		return bad("ipam.type", "must be a plugin name: 1..255 characters out of "
			   "A-Z a-z 0-9 _ . -, not starting with '.'");
	c->ipam_in_process = !strcmp(c->ipam_type, "host-local") || !strcmp(c->ipam_type, "k8snet");
	if (!c->ipam_in_process)
		return 0;     /* the delegate reads its own keys */
	if (parse_ranges(c, ipam) < 0 ||
	    parse_routes(cJSON_GetObjectItemCaseSensitive(ipam, "routes"), "ipam.routes",
			 &c->ipam_routes, &c->n_ipam_routes) < 0 ||
	    get_str(ipam, "dataDir", "ipam.dataDir", false, &c->data_dir) < 0 ||
	    check_data_dir(c) < 0)
		return -1;
	/* Requested addresses, in host-local's order of precedence. */
	args = cJSON_GetObjectItemCaseSensitive(c->root, "runtimeConfig");
	if (add_requested_ips(c, cJSON_GetObjectItemCaseSensitive(args, "ips"),
			      "runtimeConfig.ips") < 0)
		return -1;
	args = cJSON_GetObjectItemCaseSensitive(c->root, "args");
	args = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(args, "cni"), "ips");
	if (!c->n_requested_ips && add_requested_ips(c, args, "args.cni.ips") < 0)
		return -1;
	if (!c->n_requested_ips && env->arg_ip) {
		copy = cni_strdup(env->arg_ip);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (c->n_requested_ips == CNI_MAX_REQUESTED_IPS) {
				free(copy);
				return cni_fail(CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
						"IP: more than the limit of %d addresses",
						CNI_MAX_REQUESTED_IPS);
			}
			if (check_ip(tok, "CNI_ARGS IP") < 0) {
				free(copy);
				return -1;
			}
			c->requested_ips = cni_xrealloc_array(c->requested_ips,
							      c->n_requested_ips + 1, sizeof(char *));
			c->requested_ips[c->n_requested_ips++] = cni_strdup(tok);
		}
		free(copy);
	}
	return 0;
}

/* ---- runtimeConfig.portMappings ---------------------------------------- */

static int parse_portmap(const cJSON *o, size_t i, struct cni_portmap *pm)
{
	const char *proto = "tcp", *host_ip = NULL;
	char *p = cni_asprintf("runtimeConfig.portMappings[%zu]", i), *q;
	int r = cJSON_IsObject(o) ? 0 : bad(p, "must be an object");

	if (r >= 0) {
		q = cni_asprintf("%s.hostPort", p);
		r = get_int(cJSON_GetObjectItemCaseSensitive(o, "hostPort"), q, 1, 65535,
			    &pm->host_port);
		free(q);
	}
	if (r >= 0) {
		q = cni_asprintf("%s.containerPort", p);
		r = get_int(cJSON_GetObjectItemCaseSensitive(o, "containerPort"), q, 1, 65535,
			    &pm->container_port);
		free(q);
	}
	if (r >= 0) {
		q = cni_asprintf("%s.protocol", p);
		r = get_str(o, "protocol", q, false, &proto);
		if (r >= 0 && strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") &&
		    strcasecmp(proto, "sctp"))
			r = cni_fail(CNI_ERR_INVALID_CONFIG, "invalid port mapping",
				     "%s: \"%s\": must be tcp, udp or sctp", q, proto);
		free(q);
	}
	if (r >= 0) {
		/* One address of either family, or empty for all (as the
		 * reference portmap: "0.0.0.0" and "::" are the wildcard of
		 * their own family only). */
		q = cni_asprintf("%s.hostIP", p);
		r = get_str(o, "hostIP", q, false, &host_ip);
		if (r >= 0 && host_ip && *host_ip)
			r = check_ip(host_ip, q);
		free(q);
	}
	if (r >= 0) {
		pm->protocol = cni_strdup(!strcasecmp(proto, "udp") ? "udp" :
					  !strcasecmp(proto, "sctp") ? "sctp" : "tcp");
		pm->host_ip = host_ip && *host_ip ? cni_strdup(host_ip) : NULL;
	}
	free(p);
	return r;
}

static int parse_runtime_config(struct cni_conf *c, const char *command)
{
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(c->root, "runtimeConfig");
	const cJSON *pms = cJSON_GetObjectItemCaseSensitive(rc, "portMappings"), *o;
	size_t i = 0;

	if (!pms || cJSON_IsNull(pms))
		return 0;
	if (!cJSON_IsArray(pms))
		return bad("runtimeConfig.portMappings", "must be an array");
	if (cJSON_GetArraySize(pms) > CNI_MAX_PORTMAPS) {
		/* DEL never fails on a limit: ADD refused this list, so no pod
		 * holds any of these mappings. */
		if (!strcmp(command, "DEL"))
			return 0;
		return too_many("runtimeConfig.portMappings", cJSON_GetArraySize(pms),
				CNI_MAX_PORTMAPS, "mappings");
	}
	c->portmaps = cni_xcalloc((size_t)cJSON_GetArraySize(pms) + 1, sizeof(*c->portmaps));
	cJSON_ArrayForEach(o, pms) {
		c->n_portmaps = i + 1;
		if (parse_portmap(o, i, &c->portmaps[i]) < 0)
			return -1;
		i++;
	}
	return 0;
}

/* ---- the whole config -------------------------------------------------- */

/* The spec's network name: it names a directory and a chain here too. */
static bool valid_network_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > CNI_MAX_NAME || !isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int parse_top(struct cni_conf *c, const char *command)
{
	const cJSON *v;

	if (get_str(c->root, "cniVersion", "cniVersion", true, &c->version) < 0)
		return -1;
	if (!cni_version_supported(c->version))
		return cni_fail(CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
				"config is \"%s\", plugin supports [\"0.4.0\" \"1.0.0\" \"1.1.0\"]",
				c->version);
	if (get_str(c->root, "name", "name", true, &c->name) < 0 ||
	    get_str(c->root, "type", "type", false, &c->type) < 0)
		return -1;
	if (!valid_network_name(c->name))
		return bad("name", "must be 1..128 characters out of A-Z a-z 0-9 _ . -, starting "
			   "with a letter or digit");
	if (!strcmp(command, "DEL")) {
		/* Only the name matters to DEL: dns and prevResult are not read. */
		v = cJSON_GetObjectItemCaseSensitive(c->root, "prevResult");
		c->prev_result = cJSON_IsObject(v) ? (cJSON *)v : NULL;
		return 0;
	}
	v = cJSON_GetObjectItemCaseSensitive(c->root, "dns");
	if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v))
		return bad("dns", "must be an object");
	c->dns = cJSON_IsObject(v) && v->child ? (cJSON *)v : NULL;
	v = cJSON_GetObjectItemCaseSensitive(c->root, "prevResult");
	if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v))
		return bad("prevResult", "must be an object");
	c->prev_result = cJSON_IsObject(v) ? (cJSON *)v : NULL;
	if (!strcmp(command, "GC")) {
		v = cJSON_GetObjectItemCaseSensitive(c->root, "cni.dev/valid-attachments");
		if (v && !cJSON_IsNull(v) && !cJSON_IsArray(v))
			return bad("cni.dev/valid-attachments", "must be an array");
		c->gc_attachments = cJSON_IsArray(v) ? (cJSON *)v : NULL;
	}
	return 0;
}

/* DEL cleans up whatever it can, for any config (the spec asks it to):
 * a key ADD would refuse was refused there, so nothing is held under it.
 * A bridge section ADD would refuse leaves the defaults (the veth is found
 * by container id and interface name alone); an ipam section ADD would
 * refuse allocated nothing, so IPAM is skipped; the mappings go by owner
 * (name, container id, interface), so runtimeConfig is not read at all. */
static int parse_for_del(struct cni_conf *c, struct cni_env *env)
{
	if (parse_top(c, "DEL") < 0) {
		/* A name (or type) ADD refuses: ADD made nothing under it. */
		if (cni_fail_code() != CNI_ERR_INVALID_CONFIG)
			return -1;
		cni_fail_reset();
		return 1;
	}
	if (parse_bridge(c) < 0) {
		cni_fail_reset();
		if (!c->bridge || !valid_ifname(c->bridge))
			c->bridge = "cni0";
	}
	if (parse_ipam(c, env) < 0) {
		cni_fail_reset();
		c->ipam_type = NULL;
		c->ipam_in_process = false;
	}
	return 0;
}

int cni_conf_parse(struct cni_conf *c, char *raw, size_t len, const char *command,
		   struct cni_env *env)
{
	const char *end = NULL;

	c->raw = raw;
	c->raw_len = len;
	c->root = cJSON_ParseWithLengthOpts(raw, len, &end, 0);
	if (!c->root)
		return cni_fail(CNI_ERR_DECODE, "decoding failure",
				"network configuration is not JSON (near byte %td)",
				end ? end - raw : (ptrdiff_t)0);
	if (!cJSON_IsObject(c->root))
		return cni_fail(CNI_ERR_DECODE, "decoding failure",
				"network configuration must be a JSON object");
	if (!strcmp(command, "DEL"))
		return parse_for_del(c, env);
	if (parse_top(c, command) < 0)
		return -1;
	if (parse_bridge(c) < 0 || parse_ipam(c, env) < 0 || parse_runtime_config(c, command) < 0)
		return -1;
	return 0;
}

void cni_route_done(struct cni_route *r)
{
	free(r->dst);
	free(r->gw);
}

void cni_conf_done(struct cni_conf *c)
{
	size_t i, j;

	for (i = 0; i < c->n_range_sets; i++) {
		for (j = 0; j < c->range_sets[i].n_ranges; j++) {
			struct cni_range *r = &c->range_sets[i].ranges[j];

			free(r->subnet);
			free(r->range_start);
			free(r->range_end);
			free(r->gateway);
		}
		free(c->range_sets[i].ranges);
	}
	free(c->range_sets);
	for (i = 0; i < c->n_ipam_routes; i++)
		cni_route_done(&c->ipam_routes[i]);
	free(c->ipam_routes);
	for (i = 0; i < c->n_requested_ips; i++)
		free(c->requested_ips[i]);
	free(c->requested_ips);
	for (i = 0; i < c->n_portmaps; i++) {
		free(c->portmaps[i].protocol);
		free(c->portmaps[i].host_ip);
	}
	free(c->portmaps);
	cJSON_Delete(c->root);
	free(c->raw);
}
