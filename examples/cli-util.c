/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

int cli_report(const struct k8snet_ctx *ctx, int r, const char *what)
{
	const char *msg = ctx ? k8snet_ctx_get_error(ctx) : "";

	fprintf(stderr, "k8snet: %s: %s\n", what, *msg ? msg : k8snet_strerror(r));
	return r == -EINVAL || r == -ERANGE ? CLI_USAGE : CLI_FAIL;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("k8snet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_USAGE;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("k8snet: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_ctx_new(const char *netns_path, struct k8snet_ctx **ret)
{
	struct k8snet_ctx *ctx;
	int r = k8snet_ctx_new(&ctx);

	if (r < 0)
		return cli_report(NULL, r, "cannot create a context");
	if (netns_path) {
		r = k8snet_ctx_set_netns_path(ctx, netns_path);
		if (r < 0) {
			r = cli_report(ctx, r, "netns");
			k8snet_ctx_free(ctx);
			return r;
		}
	}
	*ret = ctx;
	return 0;
}

char *cli_read_file(const char *path, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "k8snet: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 65536) {
			char *p = realloc(buf, cap + 65536 + 1);

			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (buf && ferror(f)) {
		fprintf(stderr, "k8snet: %s: read error\n", path);
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (buf) {
		buf[len] = '\0';
		if (ret_len)
			*ret_len = len;
	}
	return buf;
}

int cli_load_args(const struct cli_call *call, struct k8snet_ctx *ctx,
		  int (*load)(void *obj, const char *json, size_t len), void *obj)
{
	for (int i = 0; i < call->n_args; i++) {
		size_t len = 0;
		char *json = cli_read_file(call->args[i], &len);
		int r;

		if (!json)
			return CLI_USAGE;
		r = load(obj, json, len);
		free(json);
		if (r < 0)
			return cli_report(ctx, r, call->args[i]);
	}
	return CLI_OK;
}

int cli_print_text(const char *text)
{
	fputs(text, stdout);
	if (*text && text[strlen(text) - 1] != '\n')
		putchar('\n');
	if (fflush(stdout) != 0) {
		fprintf(stderr, "k8snet: standard output: %s\n", strerror(errno));
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_print_json(void *cjson)
{
	char *text = cjson ? cJSON_Print(cjson) : NULL;
	int r;

	cJSON_Delete(cjson);
	if (!text) {
		fprintf(stderr, "k8snet: out of memory\n");
		return CLI_FAIL;
	}
	r = cli_print_text(text);
	cJSON_free(text);
	return r;
}
