/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet hostport set|check --owner OWNER [--from FILE] [--netns PATH] [--table NAME]
 *     [MAPPING...]
 * k8snet hostport remove --owner OWNER [--netns PATH] [--table NAME]
 * k8snet hostport gc [--prefix PREFIX] [--netns PATH] [--table NAME] [LIVE-OWNER...]
 * k8snet hostport network --name NET [--masquerade] [--no-hairpin] [--netns PATH]
 *     [--table NAME] [SUBNET...]
 *
 * MAPPING is PROTO:[HOST-IP:]HOST-PORT:POD-IP:POD-PORT, IPv6 addresses in
 * brackets: tcp:8080:10.88.0.5:80, udp:127.0.0.1:5353:10.88.0.5:53,
 * tcp:[::1]:8443:[fd00::5]:443; --from reads more, one per line ("-":
 * standard input).  Exit 0 done, 1 refused (a host port held
 * by another owner, a check that failed), 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define HOSTPORT_USAGE                                                                       \
	"usage: k8snet hostport set|check --owner OWNER [--from FILE] MAPPING... | "          \
	"remove --owner OWNER | "                                                              \
	"gc [--prefix P] [LIVE-OWNER...] | network --name NET [--masquerade] [--no-hairpin] "  \
	"[SUBNET...]  (all take [--netns PATH] [--table NAME]; "                              \
	"MAPPING: PROTO:[HOST-IP:]HOST-PORT:POD-IP:POD-PORT)"

struct hp_opts {
	const char *netns, *owner, *table, *prefix, *name, *from;
	uint32_t flags;
};

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

static int number(const char *s, uint32_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v > 65535)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
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
	if (*s || n < 4)
		goto out;
	proto = strcmp(f[0], "tcp") == 0 ? 6 : strcmp(f[0], "udp") == 0 ? 17 :
		strcmp(f[0], "sctp") == 0 ? 132 : 0;
	if (!proto)
		goto out;
	/* Four fields: no host address. */
	if (n == 4 && number(f[1], &hport) == 0 && number(f[3], &pport) == 0)
		r = k8snet_portmap_add(pm, proto, NULL, hport, f[2], pport);
	else if (n == 5 && number(f[2], &hport) == 0 && number(f[4], &pport) == 0)
		r = k8snet_portmap_add(pm, proto, f[1], hport, f[3], pport);
out:
	free(copy);
	return r;
}

static int add_one(struct k8snet_portmap *pm, int i, const char *text)
{
	int r = parse_mapping(text, pm);

	if (r == -E2BIG)
		return cli_usage_error("mappings[%d]: more than %d mappings", i,
				       K8SNET_HOSTPORTS_MAX_MAPPINGS);
	if (r == -ENOMEM)
		return cli_report(NULL, r, "mappings");
	if (r < 0)
		return cli_usage_error("mappings[%d]: '%s': expected "
				       "PROTO:[HOST-IP:]HOST-PORT:POD-IP:POD-PORT", i, text);
	return CLI_OK;
}

/* The mappings of the command line, then those of --from. */
static int build_portmap(const char *from, int argc, char **argv, struct k8snet_portmap **ret)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;
	int i, r = k8snet_portmap_new(ret) < 0 ? cli_report(NULL, -ENOMEM, "mappings") : CLI_OK;

	for (i = 0; r == CLI_OK && i < argc; i++)
		r = add_one(*ret, i, argv[i]);
	if (r == CLI_OK && from) {
		text = cli_read_file(from, &len);
		if (!text)
			r = CLI_USAGE;
		for (line = text ? strtok_r(text, "\n", &save) : NULL; r == CLI_OK && line;
		     line = strtok_r(NULL, "\n", &save), i++)
			r = add_one(*ret, i, line);
	}
	free(text);
	return r;
}

static int run(struct k8snet_hostports *hp, struct k8snet_ctx *ctx, const char *cmd,
	       const struct hp_opts *o, int argc, char **argv)
{
	struct k8snet_portmap *pm = NULL;
	int r;

	if (strcmp(cmd, "set") == 0 || strcmp(cmd, "check") == 0) {
		if (!o->owner)
			return cli_usage_error("%s needs --owner", cmd);
		r = build_portmap(o->from, argc, argv, &pm);
		if (r != CLI_OK) {
			k8snet_portmap_free(pm);
			return r;
		}
		r = cmd[0] == 's' ? k8snet_hostports_set(hp, o->owner, pm) :
		    k8snet_hostports_check(hp, o->owner, pm);
		k8snet_portmap_free(pm);
	} else if (strcmp(cmd, "remove") == 0) {
		if (!o->owner || argc)
			return cli_usage_error(HOSTPORT_USAGE);
		r = k8snet_hostports_remove(hp, o->owner);
	} else if (strcmp(cmd, "gc") == 0) {
		r = k8snet_hostports_gc(hp, o->prefix, (const char *const *)argv, (size_t)argc);
		if (r >= 0)
			printf("%d removed\n", r);
	} else if (strcmp(cmd, "network") == 0) {
		if (!o->name)
			return cli_usage_error("network needs --name");
		r = k8snet_hostports_set_network(hp, o->name, (const char *const *)argv,
						 (size_t)argc, o->flags);
	} else {
		return cli_usage_error(HOSTPORT_USAGE);
	}
	return r < 0 ? cli_report(ctx, r, cmd) : CLI_OK;
}

int cli_hostport(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "owner", required_argument, NULL, 'o' },
		{ "table", required_argument, NULL, 't' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'N' },
		{ "masquerade", no_argument, NULL, 'M' },
		{ "no-hairpin", no_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'f' },
		{ 0 }
	};
	struct hp_opts o = { 0 };
	struct k8snet_hostports *hp = NULL;
	struct k8snet_ctx *ctx = NULL;
	const char *cmd;
	int c, r;

	if (argc < 2)
		return cli_usage_error(HOSTPORT_USAGE);
	cmd = argv[1];
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o.netns = optarg; break;
		case 'o': o.owner = optarg; break;
		case 't': o.table = optarg; break;
		case 'p': o.prefix = optarg; break;
		case 'N': o.name = optarg; break;
		case 'M': o.flags |= K8SNET_HOSTPORTS_F_MASQUERADE; break;
		case 'H': o.flags |= K8SNET_HOSTPORTS_F_NO_HAIRPIN; break;
		case 'f': o.from = optarg; break;
		default: return cli_usage_error(HOSTPORT_USAGE);
		}
	}
	r = cli_ctx_new(o.netns, &ctx);
	if (r)
		return r;
	r = k8snet_hostports_new(ctx, &hp);
	if (r >= 0 && o.table)
		r = k8snet_hostports_set_str(hp, K8SNET_HOSTPORTS_TABLE, o.table);
	if (r < 0)
		r = cli_report(ctx, r, "hostport");
	else
		r = run(hp, ctx, cmd, &o, argc - optind, argv + optind);
	k8snet_hostports_free(hp);
	k8snet_ctx_free(ctx);
	return r;
}
