/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The smallest useful program on libk8snet: bind a context to a network
 * namespace and print what the library sees there.
 *   netns-describe /run/netns/NAME */
#include <stdio.h>

#include <k8snet/k8snet.h>

int main(int argc, char **argv)
{
	struct k8snet_ctx *ctx = NULL;
	char *json = NULL;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s NETNS-PATH\n", argv[0]);
		return 2;
	}
	r = k8snet_ctx_new(&ctx);
	if (r >= 0)
		r = k8snet_ctx_set_netns_path(ctx, argv[1]);
	if (r >= 0)
		r = k8snet_ctx_describe(ctx, &json);
	if (r < 0)
		fprintf(stderr, "netns-describe: %s\n",
			ctx && *k8snet_ctx_get_error(ctx) ? k8snet_ctx_get_error(ctx) : k8snet_strerror(r));
	else
		printf("libk8snet %s sees in %s:\n%s\n", k8snet_version(), argv[1], json);
	k8snet_free(json);
	k8snet_ctx_free(ctx);
	return r < 0 ? 1 : 0;
}
