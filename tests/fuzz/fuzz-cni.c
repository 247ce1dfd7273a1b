/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz k8snet-cni: the network configuration parser (the bridge keys, the
 * host-local ipam section, runtimeConfig, prevResult in every version), and,
 * run as root, the whole of ADD, CHECK, DEL, GC and STATUS on what it
 * accepts, against the real kernel.  The first byte picks CNI_ARGS and which
 * commands run; the rest is the configuration.
 *
 * Everything the commands touch stays private: the process moves into its
 * own mount and network namespaces at start (a node namespace, and a pod
 * namespace given as CNI_NETNS), and the configuration's ipam.dataDir is
 * rewritten to a tmpfs mounted there, so no input can make the plugin write
 * outside it.  CNI_PATH is empty: no IPAM plugin is ever run.
 *
 * fuzz-sources: examples/cni/main.c examples/cni/conf.c examples/cni/result.c examples/cni/delegate.c examples/cni/ipam.c examples/cni/ipam-local.c examples/cni/net.c examples/cni/nft.c
 * fuzz-cflags: -DCNI_NO_MAIN
 */
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../../examples/cni/cni.h"

static bool kernel;            /* root: the commands run for real */
static char sandbox[64];       /* the tmpfs every dataDir points into */
static int pod_fd = -1;
static unsigned runs;

static void leave_sandbox(void)
{
	if (!sandbox[0])
		return;
	umount2(sandbox, MNT_DETACH);
	rmdir(sandbox);
}

/* A fresh node namespace (the process's own) and pod namespace: bridges and
 * veths from earlier inputs would otherwise pile up. */
static bool fresh_namespaces(void)
{
	int node;

	if (pod_fd >= 0)
		close(pod_fd);
	pod_fd = -1;
	if (unshare(CLONE_NEWNET) < 0)
		return false;
	node = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (node < 0 || unshare(CLONE_NEWNET) < 0)
		return false;
	pod_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(node, CLONE_NEWNET) < 0)
		abort();    /* stuck in the pod namespace: nothing would mean anything */
	close(node);
	return pod_fd >= 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	(void)argc;
	(void)argv;
	if (null >= 0)
		dup2(null, STDOUT_FILENO);   /* results and errors go to stdout */
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 0;
	strcpy(sandbox, "/tmp/k8snet-fuzz-cni-XXXXXX");
	if (!mkdtemp(sandbox)) {
		sandbox[0] = '\0';
		return 0;
	}
	if (mount("k8snet-fuzz", sandbox, "tmpfs", 0, "size=64m,mode=700") < 0) {
		rmdir(sandbox);
		sandbox[0] = '\0';
		return 0;
	}
	atexit(leave_sandbox);
	kernel = fresh_namespaces();
	return 0;
}

/* The configuration with ipam.dataDir in the sandbox, or NULL when it is
 * no JSON object (then every command stops at parsing anyway). */
static char *sandboxed(const char *raw, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(raw, len), *ipam;
	char *out = NULL;

	if (cJSON_IsObject(root)) {
		ipam = cJSON_GetObjectItemCaseSensitive(root, "ipam");
		if (cJSON_IsObject(ipam)) {
			cJSON_DeleteItemFromObjectCaseSensitive(ipam, "dataDir");
			cJSON_AddStringToObject(ipam, "dataDir", sandbox);
		}
		out = cJSON_PrintUnformatted(root);
	}
	cJSON_Delete(root);
	return out;
}

static void run(const char *command, const char *args, const char *conf, size_t len)
{
	char netns[64], *raw = malloc(len + 1);
	struct cni_env env = { 0 };

	if (!raw)
		return;
	memcpy(raw, conf, len);
	raw[len] = '\0';
	snprintf(netns, sizeof(netns), "/proc/self/fd/%d", pod_fd);
	setenv("CNI_COMMAND", command, 1);
	setenv("CNI_CONTAINERID", "fuzz", 1);
	setenv("CNI_NETNS", netns, 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_ARGS", args, 1);
	setenv("CNI_PATH", "", 1);
	if (cni_env_parse(&env) >= 0)
		cni_run(&env, raw, len);    /* owns raw */
	else
		free(raw);
	cni_env_done(&env);
	cni_fail_reset();
}

/* Without the kernel: the parser and the result reader and writer alone. */
static void parse_only(const char *command, const char *conf, size_t len)
{
	struct cni_env env = { .command = command, .netns_fd = -1 };
	struct cni_conf c = { 0 };
	struct cni_result res = { 0 }, merged = { 0 };
	char *raw = malloc(len + 1);

	if (!raw)
		return;
	memcpy(raw, conf, len);
	raw[len] = '\0';
	if (cni_conf_parse(&c, raw, len, command, &env) >= 0 && c.prev_result &&
	    cni_result_from_json(&res, c.prev_result, "prevResult") >= 0) {
		cJSON *out = cni_result_to_json(&res, c.version);

		cni_result_merge(&merged, &res);
		cJSON_Delete(out);
	}
	cni_result_done(&res);
	cni_result_done(&merged);
	cni_conf_done(&c);
	cni_fail_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const commands[] = { "ADD", "DEL", "CHECK", "GC", "STATUS" };
	static const char *const args[] = { "", "IP=10.1.0.12", "K8S_POD_NAME=p;IgnoreUnknown=1",
					     "IP=fd00::5,10.1.0.14" };
	const char *conf = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;
	char *boxed;

	if (size < 1 || size > (1 << 20))
		return 0;
	parse_only(commands[data[0] % 5], conf, len);
	if (!kernel)
		return 0;
	if (++runs % 256 == 0 && !fresh_namespaces())
		abort();
	boxed = sandboxed(conf, len);
	if (!boxed)
		return 0;
	len = strlen(boxed);
	run("ADD", args[(data[0] >> 3) & 3], boxed, len);
	run("CHECK", "", boxed, len);
	if (data[0] & 0x20)
		run("GC", "", boxed, len);
	if (data[0] & 0x40)
		run("STATUS", "", boxed, len);
	run("DEL", args[(data[0] >> 3) & 3], boxed, len);
	free(boxed);
	return 0;
}
