/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the API server is and how to prove who we are: a kubeconfig file
 * (its current-context: cluster server and CA, user token or client
 * certificate), or the in-cluster configuration a pod gets (the
 * KUBERNETES_SERVICE_* variables and the mounted service-account token).
 * Relative file names in a kubeconfig are relative to its directory, as
 * kubectl reads them.  Credential plugins (exec, auth-provider) are refused
 * with a clear message: the agent does not run programs to log in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

static int cfail(char **err, const char *path, const char *field, const char *msg)
{
	if (!*err)
		*err = xasprintf("kubeconfig %s: %s%s%s", path, field ? field : "", field ? ": " : "",
				 msg);
	return -EINVAL;
}

/* The entry of list (clusters, contexts, users) whose "name" is name. */
static const cJSON *named(const cJSON *root, const char *list, const char *name, int *ret_index)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, list), *it;
	int i = 0;

	cJSON_ArrayForEach(it, arr) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");

		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
			*ret_index = i;
			return it;
		}
		i++;
	}
	return NULL;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static bool get_bool(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsTrue(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "true") == 0);
}

/* A file name from the kubeconfig, made absolute against its directory. */
static char *resolve(const char *kubeconfig, const char *file)
{
	const char *slash = strrchr(kubeconfig, '/');

	if (file[0] == '/' || !slash)
		return xstrdup(file);
	return xasprintf("%.*s/%s", (int)(slash - kubeconfig), kubeconfig, file);
}

static int decode_data(char **err, const char *path, const char *field, const char *b64,
		       char **ret, size_t *ret_len)
{
	*ret = base64_decode(b64, ret_len);
	if (!*ret)
		return cfail(err, path, field, "not valid base64");
	return 0;
}

static int read_cluster(const char *path, const cJSON *cl, int idx, struct kube_config *cfg,
			char **err)
{
	char field[96];
	const char *s;
	size_t len;

	snprintf(field, sizeof(field), "clusters[%d].cluster", idx);
	if (!cJSON_IsObject(cl))
		return cfail(err, path, field, "missing");
	s = get_str(cl, "server");
	if (!s)
		return cfail(err, path, field, "server: required");
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
		return cfail(err, path, field, "server: must be an http:// or https:// URL");
	cfg->server = xstrdup(s);
	len = strlen(cfg->server);
	while (len > 0 && cfg->server[len - 1] == '/')
		cfg->server[--len] = '\0';
	if ((s = get_str(cl, "certificate-authority-data")) &&
	    decode_data(err, path, "certificate-authority-data", s, &cfg->ca_data, &cfg->ca_len) < 0)
		return -EINVAL;
	if ((s = get_str(cl, "certificate-authority")))
		cfg->ca_file = resolve(path, s);
	cfg->insecure = get_bool(cl, "insecure-skip-tls-verify");
	cfg->tls_server_name = xstrdup(get_str(cl, "tls-server-name"));
	if (cfg->tls_server_name)
		log_warn("kubeconfig %s: %s.tls-server-name is not supported: the server's "
			 "certificate must name the host of the server URL", path, field);
	if (get_str(cl, "proxy-url"))
		log_warn("kubeconfig %s: %s.proxy-url is ignored (curl honours https_proxy)", path,
			 field);
	return 0;
}

static int read_user(const char *path, const cJSON *u, int idx, struct kube_config *cfg,
		     char **err)
{
	char field[96];
	const char *s;

	snprintf(field, sizeof(field), "users[%d].user", idx);
	if (!cJSON_IsObject(u))
		return 0;   /* a user with no credentials: anonymous */
	if (cJSON_GetObjectItemCaseSensitive(u, "exec") ||
	    cJSON_GetObjectItemCaseSensitive(u, "auth-provider"))
		return cfail(err, path, field,
			     "exec and auth-provider credential plugins are not supported; "
			     "use a token, tokenFile or client certificate");
	cfg->token = xstrdup(get_str(u, "token"));
	if ((s = get_str(u, "tokenFile")))
		cfg->token_file = resolve(path, s);
	if ((s = get_str(u, "client-certificate")))
		cfg->cert_file = resolve(path, s);
	if ((s = get_str(u, "client-key")))
		cfg->key_file = resolve(path, s);
	if ((s = get_str(u, "client-certificate-data")) &&
	    decode_data(err, path, "client-certificate-data", s, &cfg->cert_data,
			&cfg->cert_len) < 0)
		return -EINVAL;
	if ((s = get_str(u, "client-key-data")) &&
	    decode_data(err, path, "client-key-data", s, &cfg->key_data, &cfg->key_len) < 0)
		return -EINVAL;
	cfg->username = xstrdup(get_str(u, "username"));
	cfg->password = xstrdup(get_str(u, "password"));
	if ((cfg->cert_file || cfg->cert_data) != (cfg->key_file || cfg->key_data))
		return cfail(err, path, field, "a client certificate needs its key, and a key its certificate");
	return 0;
}

static int from_tree(const char *path, const cJSON *root, struct kube_config *cfg, char **err)
{
	const char *cur = get_str(root, "current-context"), *cluster, *user;
	const cJSON *ctx, *cl, *u, *c;
	int ci = 0, li = 0, ui = 0;
	char field[64];

	if (!cJSON_IsObject(root))
		return cfail(err, path, NULL, "not a kubeconfig (expected a mapping)");
	if (!cur)
		return cfail(err, path, "current-context", "not set");
	ctx = named(root, "contexts", cur, &ci);
	if (!ctx)
		return cfail(err, path, "current-context", "names no entry of contexts");
	c = cJSON_GetObjectItemCaseSensitive(ctx, "context");
	snprintf(field, sizeof(field), "contexts[%d].context.cluster", ci);
	cluster = get_str(c, "cluster");
	if (!cluster)
		return cfail(err, path, field, "required");
	cl = named(root, "clusters", cluster, &li);
	if (!cl)
		return cfail(err, path, field, "names no entry of clusters");
	if (read_cluster(path, cJSON_GetObjectItemCaseSensitive(cl, "cluster"), li, cfg, err) < 0)
		return -EINVAL;
	user = get_str(c, "user");
	if (!user)
		return 0;
	u = named(root, "users", user, &ui);
	if (!u) {
		snprintf(field, sizeof(field), "contexts[%d].context.user", ci);
		return cfail(err, path, field, "names no entry of users");
	}
	return read_user(path, cJSON_GetObjectItemCaseSensitive(u, "user"), ui, cfg, err);
}

int kube_config_load(const char *path, struct kube_config *cfg, char **err)
{
	char *text = read_file(path, NULL), *yerr = NULL;
	const char *p;
	cJSON *root = NULL;
	int r;

	*err = NULL;
	*cfg = (struct kube_config){ 0 };
	if (!text) {
		*err = xasprintf("kubeconfig %s: %s", path, strerror(errno));
		return -errno;
	}
	for (p = text; *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'; p++)
		;
	if (*p == '{') {
		root = cJSON_Parse(text);
		r = root ? 0 : cfail(err, path, NULL, "not valid JSON");
	} else {
		r = yaml_parse(text, &root, &yerr);
		if (r < 0)
			cfail(err, path, NULL, yerr ? yerr : "not valid YAML");
	}
	if (r >= 0)
		r = from_tree(path, root, cfg, err);
	cJSON_Delete(root);
	free(yerr);
	free(text);
	if (r < 0)
		kube_config_clear(cfg);
	return r;
}

int kube_config_in_cluster(const char *root, struct kube_config *cfg, char **err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");

	*err = NULL;
	*cfg = (struct kube_config){ 0 };
	if (!host || !*host || !port || !*port) {
		*err = xstrdup("no --kubeconfig, and not in a cluster: KUBERNETES_SERVICE_HOST and "
			       "KUBERNETES_SERVICE_PORT are not set");
		return -EINVAL;
	}
	cfg->server = strchr(host, ':') ? xasprintf("https://[%s]:%s", host, port) :
					  xasprintf("https://%s:%s", host, port);
	cfg->token_file = xasprintf("%s/token", root);
	cfg->ca_file = xasprintf("%s/ca.crt", root);
	if (access(cfg->token_file, R_OK) < 0) {
		*err = xasprintf("in-cluster config: %s: %s", cfg->token_file, strerror(errno));
		kube_config_clear(cfg);
		return -ENOENT;
	}
	return 0;
}

void kube_config_clear(struct kube_config *cfg)
{
	free(cfg->server);
	free(cfg->ca_file);
	free(cfg->ca_data);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->cert_data);
	free(cfg->key_data);
	free(cfg->token);
	free(cfg->token_file);
	free(cfg->username);
	free(cfg->password);
	free(cfg->tls_server_name);
	*cfg = (struct kube_config){ 0 };
}

const char *kube_config_token(struct kube_config *cfg)
{
	struct stat st;
	long long mt;
	char *t, *end;

	if (!cfg->token_file)
		return cfg->token;
	if (stat(cfg->token_file, &st) < 0) {
		log_warn("token file %s: %s (using the last token read)", cfg->token_file,
			 strerror(errno));
		return cfg->token;
	}
	mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	if (cfg->token && mt == cfg->token_mtime_ns)
		return cfg->token;
	t = read_file(cfg->token_file, NULL);
	if (!t) {
		log_warn("token file %s: %s", cfg->token_file, strerror(errno));
		return cfg->token;
	}
	end = t + strlen(t);
	while (end > t && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	free(cfg->token);
	cfg->token = t;
	cfg->token_mtime_ns = mt;
	return cfg->token;
}
