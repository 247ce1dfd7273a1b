/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a command's options and arguments against the tables of
 * cli-table.c.  GNU conventions: options and arguments in any order,
 * "--name VALUE" or "--name=VALUE", "-o json" or "-ojson", "--" ends the
 * options, "-" alone is an argument (standard input).  Every mistake is one
 * line that names it and points to the command's --help, and exit status 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

bool cli_list_has(const char *list, const char *path)
{
	size_t n = strlen(path);

	if (!list)
		return false;
	if (strcmp(list, "*") == 0)
		return true;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, path, n) == 0)
			return true;
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return false;
}

const struct cli_command *cli_find_command(const char *path)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (strcmp(cli_commands[i].path, path) == 0)
			return &cli_commands[i];
	return NULL;
}

bool cli_takes(enum cli_opt id, const char *path)
{
	return cli_list_has(cli_options[id].commands, path);
}

const struct cli_alias *cli_find_alias(const char *name, const char *path)
{
	for (size_t i = 0; i < cli_n_aliases; i++) {
		const struct cli_alias *a = &cli_aliases[i];

		if (strcmp(a->name, name) != 0 || !cli_takes(a->target, path))
			continue;
		if (!a->commands || cli_list_has(a->commands, path))
			return a;
	}
	return NULL;
}

const char *cli_str(const struct cli_call *call, enum cli_opt id)
{
	const struct cli_value *v = &call->opt[id];

	return v->n ? v->v[v->n - 1] : NULL;
}

bool cli_flag(const struct cli_call *call, enum cli_opt id)
{
	return call->opt[id].n > 0;
}

size_t cli_list(const struct cli_call *call, enum cli_opt id, const char *const **ret)
{
	*ret = call->opt[id].v;
	return call->opt[id].n;
}

int cli_u32(const struct cli_call *call, enum cli_opt id, uint32_t min, uint32_t max,
	    uint32_t *ret)
{
	const char *s = cli_str(call, id);
	unsigned long v;
	char *end;

	if (!s)
		return CLI_OK;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || v < min || v > max)
		return cli_usage(call, "--%s %s: must be a number in %u..%u",
				 call->opt[id].spelled, s, min, max);
	*ret = (uint32_t)v;
	return CLI_OK;
}

int cli_usage(const struct cli_call *call, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "k8snet: %s: ", call->cmd->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'k8snet %s --help')\n", call->cmd->path);
	return CLI_USAGE;
}

/* The parser's state: the first mistake is kept, not printed, so that a
 * --help anywhere on the line still wins. */
struct parse {
	struct cli_call *call;
	const char *path;
	char err[512];
	bool help;
};

static void parse_error(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void parse_error(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

/* Which option --NAME is for this command: its own name first, then an
 * older spelling.  ret_alias: the alias used, or NULL. */
static int lookup_long(const char *path, const char *name, const struct cli_alias **ret_alias)
{
	const struct cli_alias *a;

	*ret_alias = NULL;
	for (int i = 0; i < OPT__COUNT; i++)
		if (strcmp(cli_options[i].name, name) == 0 && cli_takes(i, path))
			return i;
	a = cli_find_alias(name, path);
	if (a) {
		*ret_alias = a;
		return (int)a->target;
	}
	return -1;
}

int cli_lookup_option(const char *path, const char *name)
{
	const struct cli_alias *alias;

	return lookup_long(path, name, &alias);
}

static bool known_anywhere(const char *name)
{
	for (int i = 0; i < OPT__COUNT; i++)
		if (strcmp(cli_options[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < cli_n_aliases; i++)
		if (strcmp(cli_aliases[i].name, name) == 0)
			return true;
	return false;
}

static int lookup_short(const char *path, char c)
{
	for (int i = 0; i < OPT__COUNT; i++)
		if (cli_options[i].short_name == c && cli_takes(i, path))
			return i;
	return -1;
}

static bool choice_ok(const struct cli_option *o, const char *value)
{
	size_t n = strlen(value);

	if (!o->choices || (o->flags & CLI_OPT_OPEN))
		return true;
	for (const char *c = o->choices; *c;) {
		size_t len = strcspn(c, " ");

		if (len == n && strncmp(c, value, n) == 0)
			return true;
		c += len;
		while (*c == ' ')
			c++;
	}
	return false;
}

static int add_value(struct parse *p, int id, const char *spelled, const char *value)
{
	const struct cli_option *o = &cli_options[id];
	struct cli_value *v = &p->call->opt[id];
	const char **nv;

	if (v->n && strcmp(v->spelled, spelled) != 0) {
		parse_error(p, "--%s and --%s are two names of --%s: give it once", v->spelled,
			    spelled, o->name);
		return -1;
	}
	if (v->n && !(o->flags & CLI_OPT_REPEAT)) {
		if (!o->arg)
			return 0;  /* a flag twice says the same thing */
		parse_error(p, "--%s given twice ('%s' and '%s')", spelled, v->v[0], value);
		return -1;
	}
	if (value && !choice_ok(o, value)) {
		char list[256];
		size_t k = 0;

		for (const char *c = o->choices; *c && k + 3 < sizeof(list); c++)
			k += (size_t)snprintf(list + k, sizeof(list) - k, *c == ' ' ? ", " : "%c", *c);
		parse_error(p, "--%s %s: must be one of: %s", spelled, value, list);
		return -1;
	}
	nv = realloc(v->v, (v->n + 1) * sizeof(*nv));
	if (!nv) {
		parse_error(p, "out of memory");
		return -1;
	}
	nv[v->n++] = value ? value : "";
	v->v = nv;
	v->spelled = spelled;
	if (id == OPT_HELP)
		p->help = true;
	return 0;
}

/* A value for the option at argv[*i]: attached ("--x=v", "-ov") or the next
 * word, unless that is itself an option ("--bridge --address ..." forgot the
 * bridge's name). */
static const char *take_value(struct parse *p, int argc, char **argv, int *i,
			      const char *attached, const char *spelled, int id)
{
	const char *next;

	if (attached)
		return attached;
	next = *i + 1 < argc ? argv[*i + 1] : NULL;
	if (!next || (next[0] == '-' && next[1] == '-' && next[2])) {
		parse_error(p, "--%s needs a value (%s)", spelled, cli_options[id].arg);
		return NULL;
	}
	(*i)++;
	return next;
}

static void parse_long(struct parse *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *value = NULL;
	const struct cli_alias *alias;
	char name[64];
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	int id;

	if (len >= sizeof(name)) {
		parse_error(p, "unknown option '%.40s...'", argv[*i]);
		return;
	}
	memcpy(name, arg, len);
	name[len] = '\0';
	id = lookup_long(p->path, name, &alias);
	if (id < 0) {
		if (known_anywhere(name))
			parse_error(p, "--%s is not an option of this command", name);
		else
			parse_error(p, "unknown option '--%s'", name);
		return;
	}
	if (!cli_options[id].arg) {
		if (eq)
			parse_error(p, "--%s takes no value", name);
		else
			add_value(p, id, alias ? alias->name : cli_options[id].name, NULL);
		return;
	}
	value = take_value(p, argc, argv, i, eq ? eq + 1 : NULL, name, id);
	if (value)
		add_value(p, id, alias ? alias->name : cli_options[id].name, value);
}

static void parse_short(struct parse *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	int id = lookup_short(p->path, arg[1]);
	const char *value;

	if (id < 0) {
		parse_error(p, "unknown option '-%c'", arg[1]);
		return;
	}
	if (!cli_options[id].arg) {
		if (arg[2])
			parse_error(p, "unknown option '%s'", arg);
		else
			add_value(p, id, cli_options[id].name, NULL);
		return;
	}
	value = take_value(p, argc, argv, i, arg[2] ? arg + 2 : NULL, cli_options[id].name, id);
	if (value)
		add_value(p, id, cli_options[id].name, value);
}

static void check_required(struct parse *p)
{
	for (int i = 0; i < OPT__COUNT && !p->err[0]; i++)
		if (!p->call->opt[i].n && cli_list_has(cli_options[i].required, p->path) &&
		    cli_takes(i, p->path))
			parse_error(p, "--%s is required", cli_options[i].name);
}

static void check_args(struct parse *p)
{
	const struct cli_command *c = p->call->cmd;
	int n = p->call->n_args;

	if (p->err[0])
		return;
	if (n < c->min_args || (c->max_args >= 0 && n > c->max_args)) {
		if (c->max_args == 0)
			parse_error(p, "unexpected argument '%s'", p->call->args[0]);
		else if (n > c->max_args && c->max_args >= 0)
			parse_error(p, "unexpected argument '%s' (expected %s)",
				    p->call->args[c->max_args], c->args);
		else
			parse_error(p, "expected %s", c->args);
	}
}

void cli_call_free(struct cli_call *call)
{
	for (int i = 0; i < OPT__COUNT; i++)
		free(call->opt[i].v);
	free(call->args);
}

bool cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_call *call,
	       int *ret_status)
{
	struct parse p = { .call = call, .path = cmd->path };
	bool only_args = false;

	*call = (struct cli_call){ .cmd = cmd };
	call->args = calloc((size_t)argc + 1, sizeof(*call->args));
	if (!call->args) {
		*ret_status = cli_usage_error("out of memory");
		return false;
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || !a[1])
			call->args[call->n_args++] = argv[i];
		else if (strcmp(a, "--") == 0)
			only_args = true;
		else if (a[1] == '-')
			parse_long(&p, argc, argv, &i);
		else
			parse_short(&p, argc, argv, &i);
	}
	if (p.help) {
		*ret_status = cli_help_path(cmd->path, stdout);
		return false;
	}
	check_required(&p);
	check_args(&p);
	if (p.err[0]) {
		fprintf(stderr, "k8snet: %s: %s (see 'k8snet %s --help')\n", cmd->path, p.err,
			cmd->path);
		*ret_status = CLI_USAGE;
		return false;
	}
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_value *v = &call->opt[i];
		const struct cli_alias *a = v->n ? cli_find_alias(v->spelled, cmd->path) : NULL;

		if (a && a->target == (enum cli_opt)i && !a->same_name)
			fprintf(stderr, "k8snet: note: --%s is now --%s; the old name goes away "
				"after release 0.2\n", v->spelled, cli_options[i].name);
	}
	call->json = cli_str(call, OPT_OUTPUT) && strcmp(cli_str(call, OPT_OUTPUT), "json") == 0;
	*ret_status = CLI_OK;
	return true;
}
