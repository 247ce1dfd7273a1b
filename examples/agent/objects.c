/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's view of the cluster, for `k8snet observe`: after each sync in
 * which a Namespace, Pod, Service, EndpointSlice or NetworkPolicy changed,
 * STATE_DIR/objects.json is replaced (temporary file, fsync, rename) by one
 * document in the shape `kubectl get ... -o json` prints: a List whose
 * items are the objects as the agent keeps them (trimmed to what the
 * library reads).  observe follows the file and names the pods it sees
 * with it, including pods created after observe started.
 *
 * Why a file and not a socket: observe already follows JSON files, any
 * tool (jq, k8snet trace) can read it, and the rename makes each version
 * whole.  Nodes are left out: no layer that reads the file needs them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"

/* The order a reader meets them in: namespaces before what is in them. */
static const enum kind listed[] = { K_NAMESPACE, K_POD, K_SERVICE, K_SLICE, K_POLICY };

static int render(const struct agent *a, struct buf *out)
{
	bool first = true;
	size_t k, i;
	struct smap_node *n;

	if (buf_printf(out, "{\"apiVersion\": \"v1\", \"kind\": \"List\", "
		       "\"metadata\": {\"resourceVersion\": \"\"}, \"items\": [") < 0)
		return -ENOMEM;
	for (k = 0; k < sizeof(listed) / sizeof(listed[0]); k++)
		smap_for_each(&a->inf[listed[k]].objects, i, n) {
			const struct object *o = n->val;

			if (buf_append(out, first ? "\n" : ",\n", first ? 1 : 2) < 0 ||
			    buf_append(out, o->json, o->len) < 0)
				return -ENOMEM;
			first = false;
		}
	return buf_printf(out, "\n]}\n") < 0 ? -ENOMEM : 0;
}

bool objects_wanted(enum kind k)
{
	return k != K_NODE && k != K_COUNT;
}

int objects_save(struct agent *a)
{
	struct buf text = { 0 };
	char *path;
	int r;

	if (!a->model.objects_dirty)
		return 0;
	path = xasprintf("%s/objects.json", a->opt.state_dir);
	if (!path)
		return -ENOMEM;
	if (mkdir(a->opt.state_dir, 0700) < 0 && errno != EEXIST)
		r = -errno;
	else
		r = render(a, &text);
	/* 0640: the objects are what any reader of the API could list,
	 * but not for every local user. */
	if (r >= 0)
		r = write_file_atomic(path, text.p, text.len, 0640);
	if (r < 0) {
		/* Said once per failing streak; kept dirty, so retried at the
		 * next sync. */
		if (!a->model.objects_failed)
			log_warn("%s: %s (retried at the next sync)", path, strerror(-r));
		a->model.objects_failed = true;
	} else {
		if (a->model.objects_failed)
			log_info("%s written again", path);
		a->model.objects_failed = false;
		a->model.objects_dirty = false;
		log_debug("%s: %zu bytes", path, text.len);
	}
	buf_free(&text);
	free(path);
	return r;
}
