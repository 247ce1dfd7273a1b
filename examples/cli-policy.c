/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * k8snet policy check FILE.json --from NS/POD|IP --to NS/POD|IP --port PORT --protocol P
 *   prints "allow" or "deny" alone on its first line, then the reasons;
 *   exit 0 allow, 1 deny, 2 bad input.
 * k8snet policy sync --netns PATH --node-name N FILE.json
 * k8snet policy render --node-name N FILE.json
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define USAGE_CHECK "usage: k8snet policy check FILE.json --from NS/POD|IP --to NS/POD|IP " \
	"--port PORT --protocol TCP|UDP|SCTP"
#define USAGE_SYNC "usage: k8snet policy sync --netns PATH --node-name N FILE.json"
#define USAGE_RENDER "usage: k8snet policy render --node-name N FILE.json"

struct opts {
	const char *from, *to, *port, *protocol, *netns, *node, *file;
};

static int parse(int argc, char **argv, struct opts *o, const char *usage)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "protocol", required_argument, NULL, 'P' },
		{ "netns", required_argument, NULL, 'n' },
		{ "node-name", required_argument, NULL, 'N' },
		{ 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'p': o->port = optarg; break;
		case 'P': o->protocol = optarg; break;
		case 'n': o->netns = optarg; break;
		case 'N': o->node = optarg; break;
		default: return cli_usage_error("%s", usage);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("%s", usage);
	o->file = argv[optind];
	return 0;
}

/* A context (in netns when given) and a database loaded from the file. */
static int open_db(const struct opts *o, struct k8snet_ctx **ctx, struct k8snet_policy_db **db)
{
	size_t len = 0;
	char *json = cli_read_file(o->file, &len);
	int r;

	if (!json)
		return CLI_USAGE;
	r = cli_ctx_new(o->netns, ctx);
	if (r) {
		free(json);
		return r;
	}
	r = k8snet_policy_db_new(*ctx, db);
	if (r >= 0)
		r = k8snet_policy_db_load_json(*db, json, len);
	free(json);
	if (r < 0)
		return cli_report(*ctx, r, o->file);
	return 0;
}

static int policy_check(int argc, char **argv)
{
	struct opts o = { 0 };
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_policy_db *db = NULL;
	char *why = NULL, *end = NULL;
	unsigned long port;
	int r = parse(argc, argv, &o, USAGE_CHECK);

	if (r)
		return r;
	if (!o.from || !o.to || !o.port || !o.protocol)
		return cli_usage_error("%s", USAGE_CHECK);
	port = strtoul(o.port, &end, 10);
	if (!*o.port || *end || port < 1 || port > 65535)
		return cli_usage_error("--port: '%s': must be 1..65535", o.port);
	r = open_db(&o, &ctx, &db);
	if (r == 0) {
		r = k8snet_policy_db_check(db, o.from, o.to, o.protocol, (uint32_t)port, &why);
		if (r < 0) {
			r = cli_report(ctx, r, "check");
			r = CLI_USAGE;
		} else {
			printf("%s\n%s", r == K8SNET_POLICY_ALLOW ? "allow" : "deny", why ? why : "");
			r = r == K8SNET_POLICY_ALLOW ? CLI_OK : CLI_FAIL;
		}
	}
	k8snet_free(why);
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
	return r;
}

static int policy_render_or_sync(int argc, char **argv, bool sync)
{
	struct opts o = { 0 };
	struct k8snet_ctx *ctx = NULL;
	struct k8snet_policy_db *db = NULL;
	char *text = NULL;
	int r = parse(argc, argv, &o, sync ? USAGE_SYNC : USAGE_RENDER);

	if (r)
		return r;
	if (!o.node || (sync && !o.netns) || (!sync && o.netns))
		return cli_usage_error("%s", sync ? USAGE_SYNC : USAGE_RENDER);
	r = open_db(&o, &ctx, &db);
	if (r == 0) {
		r = sync ? k8snet_policy_db_sync(db, o.node) : k8snet_policy_db_render(db, o.node, &text);
		if (r < 0)
			r = cli_report(ctx, r, sync ? "sync" : "render");
		else if (text)
			fputs(text, stdout);
	}
	k8snet_free(text);
	k8snet_policy_db_free(db);
	k8snet_ctx_free(ctx);
	return r;
}

int cli_policy(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return policy_check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sync") == 0)
		return policy_render_or_sync(argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "render") == 0)
		return policy_render_or_sync(argc - 1, argv + 1, false);
	return cli_usage_error("usage: k8snet policy check|sync|render ...");
}
