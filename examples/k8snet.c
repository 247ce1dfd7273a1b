/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* k8snet: the library's command line.  Output and exit codes are stable for
 * scripts: 0 success, 1 failure (or a negative answer), 2 bad input.  The
 * commands and options are the tables of cli-table.c. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

int cli_version(const struct cli_call *call)
{
	cJSON *j;

	if (!call->json) {
		printf("k8snet %s (library %s)\n", K8SNET_VERSION_STRING, k8snet_version());
		return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	}
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "version", K8SNET_VERSION_STRING);
	cJSON_AddStringToObject(j, "library", k8snet_version());
	return cli_print_json(j);
}

/* Whether path is a group: the leading words of some command's path. */
static bool is_group(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < cli_n_commands; i++)
		if (strncmp(cli_commands[i].path, path, n) == 0 && cli_commands[i].path[n] == ' ')
			return true;
	return false;
}

/* Walk words into a command path.  Returns the command, or NULL with path
 * holding the group reached ("" for none) and *ret_i the first word not
 * taken; *ret_unknown is that word when it names no command. */
static const struct cli_command *resolve(int argc, char **argv, int *ret_i, char *path,
					 size_t size, const char **ret_unknown)
{
	int i = *ret_i;

	*ret_unknown = NULL;
	path[0] = '\0';
	for (; i < argc && argv[i][0] != '-'; i++) {
		char cand[256];
		const struct cli_command *cmd;

		snprintf(cand, sizeof(cand), "%s%s%s", path, *path ? " " : "", argv[i]);
		cmd = cli_find_command(cand);
		if (cmd) {
			*ret_i = i + 1;
			snprintf(path, size, "%s", cand);
			return cmd;
		}
		if (!is_group(cand)) {
			*ret_unknown = argv[i];
			break;
		}
		snprintf(path, size, "%s", cand);
	}
	*ret_i = i;
	return NULL;
}

static bool is_help(const char *word)
{
	return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0;
}

/* Words that led to a group or to nothing: help, or say what is wrong. */
static int not_a_command(const char *path, const char *unknown, const char *next)
{
	const char *at = *path ? path : "";
	const char *sep = *path ? " " : "";
	char words[512];

	if (unknown) {
		fprintf(stderr, "k8snet: unknown command '%s%s%s' (see 'k8snet%s%s --help')\n",
			at, sep, unknown, sep, at);
		return CLI_USAGE;
	}
	if (next && is_help(next))
		return cli_help_path(path, stdout);
	if (next && !*path) {
		fprintf(stderr, "k8snet: unknown option '%s' (see 'k8snet --help')\n", next);
		return CLI_USAGE;
	}
	cli_group_words(path, words, sizeof(words));
	fprintf(stderr, "k8snet: %s%sa command is needed: %s (see 'k8snet%s%s --help')\n", at,
		*path ? ": " : "", words, sep, at);
	return CLI_USAGE;
}

int cli_help(const struct cli_call *call)
{
	char path[256];
	const char *unknown;
	int i = 0;
	const struct cli_command *cmd = resolve(call->n_args, call->args, &i, path,
						sizeof(path), &unknown);

	if (cmd && i == call->n_args)
		return cli_help_path(cmd->path, stdout);
	if (cmd)
		unknown = call->args[i];
	if (unknown) {
		fprintf(stderr, "k8snet: help: no command '%s%s%s' (see 'k8snet --help')\n", path,
			*path ? " " : "", unknown);
		return CLI_USAGE;
	}
	return cli_help_path(path, stdout);
}

int cli_main(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct cli_call call;
	const char *unknown;
	char path[256];
	int i = 1, status;

	if (argc >= 2 && strcmp(argv[1], "__complete") == 0)
		return cli_complete(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "__man") == 0)
		return cli_man(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "__check") == 0)
		return cli_check_tables();
	if (argc >= 2 && strcmp(argv[1], "--version") == 0)
		argv[1] = (char *)"version";
	cmd = resolve(argc, argv, &i, path, sizeof(path), &unknown);
	if (!cmd)
		return not_a_command(path, unknown, i < argc ? argv[i] : NULL);
	if (cli_parse(cmd, argc - i, argv + i, &call, &status))
		status = cmd->run(&call);
	cli_call_free(&call);
	return status;
}

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
