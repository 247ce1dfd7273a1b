/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet hostport set|check|remove|gc|network: the library's host-port
 * table (k8snet/hostport.h) from the command line.
 *
 * A MAPPING is PROTO:[HOST-IP:]HOST-PORT:POD-IP:POD-PORT, IPv6 addresses in
 * brackets: tcp:8080:10.88.0.5:80, udp:127.0.0.1:5353:10.88.0.5:53,
 * tcp:[::1]:8443:[fd00::5]:443.  --mappings FILE reads more, one per line.
 * Exit 0 done, 1 refused (a host port held by another owner, a check that
 * failed), 2 bad input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One field of a mapping: "[v6]" or up to the next ':'; advances *s. */
static char *field(char **s)
{
	char *start = *s, *end;

	if (*start == '[') {
		end = strchr(start, ']');
		if (!end || (end[1] != ':' && end[1] != '\0'))
			return NULL;
		*end = '\0';
		*s = end[1] ? end + 2 : end + 1;
		return start + 1;
	}
	end = strchr(start, ':');
	if (end) {
		*end = '\0';
		*s = end + 1;
	} else {
		*s = start + strlen(start);
	}
	return start;
}

static int port_number(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static uint32_t protocol_number(const char *s)
{
	return strcmp(s, "tcp") == 0 ? 6 : strcmp(s, "udp") == 0 ? 17 : strcmp(s, "sctp") == 0 ? 132 : 0;
}

static int parse_mapping(const char *text, struct k8snet_portmap *pm)
{
	char *copy = strdup(text), *s = copy, *f[5];
	uint32_t proto, hport, pport;
	int n = 0, r = -EINVAL;

	if (!copy)
		return -ENOMEM;
	while (*s && n < 5 && (f[n] = field(&s)))
		n++;
	proto = n >= 4 && !*s ? protocol_number(f[0]) : 0;
	/* Four fields: no host address. */
	if (proto && n == 4 && port_number(f[1], &hport) == 0 && port_number(f[3], &pport) == 0)
		r = k8snet_portmap_add(pm, proto, NULL, hport, f[2], pport);
	else if (proto && n == 5 && port_number(f[2], &hport) == 0 && port_number(f[4], &pport) == 0)
		r = k8snet_portmap_add(pm, proto, f[1], hport, f[3], pport);
	free(copy);
	return r;
}

static int add_mapping(const struct cli_call *call, struct k8snet_portmap *pm, int i,
		       const char *text)
{
	int r = parse_mapping(text, pm);

	if (r == -E2BIG)
		return cli_usage(call, "mappings[%d]: more than %d mappings", i,
				 K8SNET_HOSTPORTS_MAX_MAPPINGS);
	if (r == -ENOMEM)
		return cli_report(NULL, r, "mappings");
	if (r < 0)
		return cli_usage(call, "mappings[%d]: '%s': expected "
				 "PROTO:[HOST-IP:]HOST-PORT:POD-IP:POD-PORT", i, text);
	return CLI_OK;
}

/* The mappings of the command line, then those of --mappings. */
static int read_portmap(const struct cli_call *call, struct k8snet_portmap **ret)
{
	const char *from = cli_str(call, OPT_MAPPINGS);
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int i, r = k8snet_portmap_new(ret) < 0 ? cli_report(NULL, -ENOMEM, "mappings") : CLI_OK;

	for (i = 0; r == CLI_OK && i < call->n_args; i++)
		r = add_mapping(call, *ret, i, call->args[i]);
	if (r == CLI_OK && from) {
		text = cli_read_file(from, &len);
		if (!text)
			r = CLI_USAGE;
		for (line = text ? strtok_r(text, "\n", &save) : NULL; r == CLI_OK && line;
		     line = strtok_r(NULL, "\n", &save), i++)
			r = add_mapping(call, *ret, i, line);
	}
	free(text);
	return r;
}

/* The table in the node's namespace, as the options say. */
static int open_table(const struct cli_call *call, struct k8snet_ctx **ctx,
		      struct k8snet_hostports **hp)
{
	int r = cli_ctx_new(cli_str(call, OPT_NODE_NETNS), ctx);

	if (r)
		return r;
	r = k8snet_hostports_new(*ctx, hp);
	if (r >= 0 && cli_str(call, OPT_TABLE))
		r = k8snet_hostports_set_str(*hp, K8SNET_HOSTPORTS_TABLE, cli_str(call, OPT_TABLE));
	return r < 0 ? cli_report(*ctx, r, "hostport") : CLI_OK;
}

static void close_table(struct k8snet_ctx *ctx, struct k8snet_hostports *hp)
{
	k8snet_hostports_free(hp);
	k8snet_ctx_free(ctx);
}

static int set_or_check(const struct cli_call *call, bool check)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_portmap *pm = NULL;
	struct k8snet_ctx *ctx = NULL;
	const char *owner = cli_str(call, OPT_OWNER);
	int r = read_portmap(call, &pm);

	if (r == CLI_OK)
		r = open_table(call, &ctx, &hp);
	if (r == CLI_OK) {
		r = check ? k8snet_hostports_check(hp, owner, pm) : k8snet_hostports_set(hp, owner, pm);
		r = r < 0 ? cli_report(ctx, r, call->cmd->path) : CLI_OK;
	}
	k8snet_portmap_free(pm);
	close_table(ctx, hp);
	return r;
}

int cli_hostport_set(const struct cli_call *call)
{
	return set_or_check(call, false);
}

int cli_hostport_check(const struct cli_call *call)
{
	return set_or_check(call, true);
}

int cli_hostport_remove(const struct cli_call *call)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_ctx *ctx = NULL;
	int r = open_table(call, &ctx, &hp);

	if (r == CLI_OK) {
		r = k8snet_hostports_remove(hp, cli_str(call, OPT_OWNER));
		r = r < 0 ? cli_report(ctx, r, call->cmd->path) : CLI_OK;
	}
	close_table(ctx, hp);
	return r;
}

int cli_hostport_gc(const struct cli_call *call)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_ctx *ctx = NULL;
	int r = open_table(call, &ctx, &hp);

	if (r == CLI_OK) {
		r = k8snet_hostports_gc(hp, cli_str(call, OPT_PREFIX),
					(const char *const *)call->args, (size_t)call->n_args);
		if (r >= 0)
			printf("%d removed\n", r);
		r = r < 0 ? cli_report(ctx, r, call->cmd->path) : CLI_OK;
	}
	close_table(ctx, hp);
	return r;
}

int cli_hostport_network(const struct cli_call *call)
{
	struct k8snet_hostports *hp = NULL;
	struct k8snet_ctx *ctx = NULL;
	uint32_t flags = 0;
	int r = open_table(call, &ctx, &hp);

	if (cli_flag(call, OPT_MASQUERADE))
		flags |= K8SNET_HOSTPORTS_F_MASQUERADE;
	if (cli_flag(call, OPT_NO_HAIRPIN))
		flags |= K8SNET_HOSTPORTS_F_NO_HAIRPIN;
	if (r == CLI_OK) {
		r = k8snet_hostports_set_network(hp, cli_str(call, OPT_NETWORK),
						 (const char *const *)call->args,
						 (size_t)call->n_args, flags);
		r = r < 0 ? cli_report(ctx, r, call->cmd->path) : CLI_OK;
	}
	close_table(ctx, hp);
	return r;
}
