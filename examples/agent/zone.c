/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --zone-file PATH --zone-reload-cmd CMD: the cluster.local zone for a stock
 * DNS server (BIND, NSD, Knot, CoreDNS's file plugin), written by the DNS
 * layer from the Services, EndpointSlices and Pods the agent holds.  The
 * file is replaced atomically (rename) only when its records change, with
 * a new SOA serial, and then CMD runs (/bin/sh -c, e.g. "rndc reload
 * cluster.local") so the server loads it.  One reload runs at a time; a
 * change during a reload runs CMD again when it ends.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <k8snet/k8snet.h>

#include "agent.h"

extern char **environ;

static int add_objects(struct agent *a, struct k8snet_dns_zone *z, enum kind k)
{
	struct smap_node *n;
	size_t i;

	smap_for_each(&a->inf[k].objects, i, n) {
		const struct object *o = n->val;

		if (k8snet_dns_zone_add_json(z, o->json, o->len) < 0)
			log_debug("zone: %s %s left out: %s", kind_infos[k].kind, o->key,
				  k8snet_ctx_get_error(a->model.ctx));
	}
	return 0;
}

static int render(struct agent *a, uint32_t serial, char **ret)
{
	struct k8snet_dns_zone *z = NULL;
	int r = k8snet_dns_zone_new(a->model.ctx, NULL, &z);

	*ret = NULL;
	if (r >= 0)
		r = k8snet_dns_zone_set_u32(z, K8SNET_DNS_ZONE_SERIAL, serial);
	if (r >= 0)
		r = add_objects(a, z, K_SERVICE);
	if (r >= 0)
		r = add_objects(a, z, K_SLICE);
	if (r >= 0)
		r = add_objects(a, z, K_POD);
	if (r >= 0)
		r = k8snet_dns_zone_render(z, NULL, ret);
	if (r < 0)
		log_err("zone: %s", k8snet_ctx_get_error(a->model.ctx));
	k8snet_dns_zone_free(z);
	return r;
}

static void run_reload(struct agent *a)
{
	char *argv[] = { "/bin/sh", "-c", (char *)a->opt.zone_reload_cmd, NULL };
	pid_t pid;
	int r;

	if (!a->opt.zone_reload_cmd || !*a->opt.zone_reload_cmd)
		return;
	if (a->zone.reload_pid > 0) {
		a->zone.reload_again = true;
		return;
	}
	r = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
	if (r != 0) {
		log_err("zone reload: cannot run /bin/sh: %s", strerror(r));
		a->metrics.zone_failures++;
		return;
	}
	a->zone.reload_pid = pid;
	a->zone.reload_again = false;
}

void zone_child_exited(struct agent *a, pid_t pid, int status)
{
	if (pid != a->zone.reload_pid)
		return;
	a->zone.reload_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warn("zone reload command \"%s\" failed (status %d)", a->opt.zone_reload_cmd,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		a->metrics.zone_failures++;
	} else {
		a->metrics.zone_reloads++;
	}
	if (a->zone.reload_again)
		run_reload(a);
}

int zone_sync(struct agent *a)
{
	struct zone_writer *z = &a->zone;
	uint32_t serial = z->serial ? z->serial : (uint32_t)time(NULL);
	char *text = NULL;
	int r;

	if (!a->opt.zone_file)
		return 0;
	r = render(a, serial, &text);
	if (r < 0)
		return r;
	if (z->last_text && strcmp(text, z->last_text) == 0) {
		k8snet_free(text);
		return 0;
	}
	if (z->last_text) {
		/* The records changed: a larger serial tells secondaries and
		 * caches so; time-based like most zone tools, and always up. */
		uint32_t now = (uint32_t)time(NULL);

		serial = now > z->serial ? now : z->serial + 1;
		k8snet_free(text);
		text = NULL;
		if ((r = render(a, serial, &text)) < 0)
			return r;
	}
	r = write_file_atomic(a->opt.zone_file, text, strlen(text), 0644);
	if (r < 0) {
		log_err("zone file %s: %s", a->opt.zone_file, strerror(-r));
		a->metrics.zone_failures++;
		k8snet_free(text);
		return r;
	}
	free(z->last_text);
	z->last_text = strdup(text);
	k8snet_free(text);
	z->serial = serial;
	a->metrics.zone_writes++;
	log_info("wrote zone %s (serial %u)", a->opt.zone_file, serial);
	run_reload(a);
	return 0;
}

void zone_free(struct zone_writer *z)
{
	free(z->last_text);
	z->last_text = NULL;
}
