/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP(S) transport: libcurl's multi interface runs every informer's
 * request (lists and long-lived watches) in the agent's one thread.  With
 * HTTP/2 (when the server offers it, as kube-apiserver does) curl multiplexes
 * them over one connection, as client-go does; over HTTP/1.1 each watch has
 * its own connection.
 *
 * Dead peers: TCP keepalive (30 s idle, 10 s interval) finds a connection
 * whose server vanished; a watch also has a hard time limit above the
 * timeoutSeconds it asks for, so a server that forgets to end it is left.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <k8snet/version.h>

#include "agent.h"

struct xfer {
	struct api *api;
	struct informer *inf;            /* or a one-shot GET: */
	api_done_fn done;
	void *ud;
	struct buf body;
	CURL *h;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *next;
};

struct api {
	CURLM *multi;
	struct kube_config *cfg;
	struct xfer *xfers;
};

int api_new(struct kube_config *cfg, struct api **ret)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api)
		return -ENOMEM;
	api->cfg = cfg;
	api->multi = curl_multi_init();
	if (!api->multi) {
		free(api);
		return -ENOMEM;
	}
	curl_multi_setopt(api->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	*ret = api;
	return 0;
}

static void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->h) {
		curl_multi_remove_handle(x->api->multi, x->h);
		curl_easy_cleanup(x->h);
	}
	curl_slist_free_all(x->headers);
	buf_free(&x->body);
	free(x);
}

struct api *api_free(struct api *api)
{
	if (!api)
		return NULL;
	while (api->xfers) {
		struct xfer *x = api->xfers;

		api->xfers = x->next;
		xfer_free(x);
	}
	curl_multi_cleanup(api->multi);
	free(api);
	return NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	long status = 0;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (!x->inf)
		return x->body.len > (1u << 20) || buf_append(&x->body, data, size * nmemb) < 0 ?
		       0 : size * nmemb;
	/* A short return makes curl end the transfer with CURLE_WRITE_ERROR:
	 * the informer wants this stream no more (410, a broken event). */
	return informer_feed(x->inf, status, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

static struct curl_blob blob(const char *data, size_t len)
{
	return (struct curl_blob){ (void *)data, len, CURL_BLOB_COPY };
}

/* TLS and credentials from the configuration, and the common options. */
static int setup_handle(struct api *api, CURL *h, const char *url, struct curl_slist **headers,
			char *errbuf)
{
	struct kube_config *cfg = api->cfg;
	const char *token = kube_config_token(cfg);
	struct curl_slist *hl = NULL;
	bool ok = true;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "k8snet-agent/" K8SNET_VERSION_STRING);
	if (cfg->ca_data) {
		struct curl_blob b = blob(cfg->ca_data, cfg->ca_len);

		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	} else if (cfg->ca_file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	}
	if (cfg->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->cert_data) {
		struct curl_blob c = blob(cfg->cert_data, cfg->cert_len), k = blob(cfg->key_data, cfg->key_len);

		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &k);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (cfg->cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
	}
	if (cfg->username) {
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username);
		curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
	}
	hl = curl_slist_append(hl, "Accept: application/json");
	ok = hl != NULL;
	if (ok && token) {
		char *auth = xasprintf("Authorization: Bearer %s", token);
		struct curl_slist *n = auth ? curl_slist_append(hl, auth) : NULL;

		free(auth);
		ok = n != NULL;
	}
	if (!ok) {
		curl_slist_free_all(hl);
		return -ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	*headers = hl;
	return 0;
}

static int start_xfer(struct api *api, struct informer *inf, api_done_fn done, void *ud,
		      const char *path_query)
{
	struct xfer *x = calloc(1, sizeof(*x));
	char *url = xasprintf("%s%s", api->cfg->server, path_query);
	int r = x && url ? 0 : -ENOMEM;

	if (r >= 0) {
		x->api = api;
		x->inf = inf;
		x->done = done;
		x->ud = ud;
		x->h = curl_easy_init();
		r = x->h ? setup_handle(api, x->h, url, &x->headers, x->errbuf) : -ENOMEM;
	}
	if (r >= 0) {
		curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
		/* A list page must come in a minute; a watch ends by itself
		 * within timeoutSeconds (at most 10 minutes): 15 is a hang. */
		curl_easy_setopt(x->h, CURLOPT_TIMEOUT,
				 inf && inf->phase == INF_WATCHING ? 900L : inf ? 60L : 10L);
		if (curl_multi_add_handle(api->multi, x->h) != CURLM_OK)
			r = -EIO;
	}
	free(url);
	if (r < 0) {
		if (x && x->h) {
			curl_easy_cleanup(x->h);
			x->h = NULL;
		}
		xfer_free(x);
		return r;
	}
	x->next = api->xfers;
	api->xfers = x;
	return 0;
}

int api_start(struct api *api, struct informer *inf, const char *path_query)
{
	return start_xfer(api, inf, NULL, NULL, path_query);
}

int api_get_async(struct api *api, const char *path, api_done_fn done, void *ud)
{
	return start_xfer(api, NULL, done, ud, path);
}

static void unlink_xfer(struct api *api, struct xfer *x)
{
	struct xfer **pp;

	for (pp = &api->xfers; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			return;
		}
}

static void finish(struct api *api, CURLMsg *msg)
{
	struct xfer *x = NULL;
	struct informer *inf;
	long status = 0;
	char err[CURL_ERROR_SIZE + 64];
	CURLcode res = msg->data.result;

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	if (!x)
		return;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	snprintf(err, sizeof(err), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	inf = x->inf;
	unlink_xfer(api, x);
	if (!inf)
		x->done(x->ud, status, x->body.p ? x->body.p : "", x->body.len,
			res == CURLE_OK ? NULL : err);
	xfer_free(x);
	if (inf)
		informer_done(inf, status, res == CURLE_OK, err);
}

int api_poll(struct api *api, struct pollfd *extra, unsigned n_extra, int timeout_ms)
{
	struct curl_waitfd wfds[16];
	CURLMcode mc;
	CURLMsg *msg;
	unsigned i;
	int running, left;

	if (n_extra > sizeof(wfds) / sizeof(wfds[0]))
		n_extra = sizeof(wfds) / sizeof(wfds[0]);
	for (i = 0; i < n_extra; i++)
		wfds[i] = (struct curl_waitfd){ extra[i].fd, (short)extra[i].events, 0 };
	mc = curl_multi_poll(api->multi, wfds, n_extra, timeout_ms, NULL);
	if (mc != CURLM_OK) {
		log_err("curl_multi_poll: %s", curl_multi_strerror(mc));
		return -EIO;
	}
	for (i = 0; i < n_extra; i++)
		extra[i].revents = (short)wfds[i].revents;
	mc = curl_multi_perform(api->multi, &running);
	if (mc != CURLM_OK) {
		log_err("curl_multi_perform: %s", curl_multi_strerror(mc));
		return -EIO;
	}
	while ((msg = curl_multi_info_read(api->multi, &left)))
		if (msg->msg == CURLMSG_DONE)
			finish(api, msg);
	return 0;
}
