/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the link layer's parsers: addresses and prefixes,
 * MACs, interface names, and the pod description built from them (then
 * planned into a result and rendered as CNI JSON).  Input: lines. */
#include <stdint.h>
#include <string.h>

#include "link/internal.h"

static void feed_line(struct k8snet_link_pod *pod, const char *line)
{
	struct link_ip ip;
	uint8_t mac[6];
	const char *sp = strchr(line, ' ');
	char *first = strndup(line, sp ? (size_t)(sp - line) : strlen(line));

	link_ip_parse(line, true, &ip);
	link_ip_parse(line, false, &ip);
	link_mac_parse(line, mac);
	link_ifname_valid(line);
	/* "CIDR [GATEWAY]" as an address and as a route. */
	k8snet_link_pod_add_address(pod, first, sp ? sp + 1 : NULL);
	k8snet_link_pod_add_route(pod, first, sp ? sp + 1 : NULL);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_IFNAME, line);
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_MAC, line);
	free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8snet_link_pod *pod;
	struct k8snet_link_result *res = NULL;
	char *text = strndup((const char *)data, size), *save = NULL, *line, *json = NULL;

	if (!text || k8snet_link_pod_new(&pod) < 0) {
		free(text);
		return 0;
	}
	k8snet_link_pod_set_str(pod, K8SNET_LINK_POD_CONTAINER_ID, "fuzz");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		feed_line(pod, line);
	if (link_result_plan(pod, "cni0", &res) == 0) {
		k8snet_link_result_to_json(res, NULL, &json);
		k8snet_free(json);
		k8snet_link_result_free(res);
	}
	k8snet_link_pod_free(pod);
	free(text);
	return 0;
}
