/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything the tables of cli-table.c say about themselves: --help for the
 * tool, a group or a command; the parts of k8snet(1) made from them
 * (`k8snet __man options|commands`); bash completion (`k8snet __complete
 * WORD...`, read by the script that `make install` puts in bash-completion's
 * directory); and a consistency check of the tables (`k8snet __check`).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define WIDTH 79
#define HELP_COLUMN 26

/* ---- Text -------------------------------------------------------------- */

/* Print the words of text (separated by sep) from column col (already
 * reached), wrapped at WIDTH, continuing lines at column indent. */
static void wrap_at(FILE *f, const char *text, char sep, int col, int indent)
{
	const char seps[2] = { sep, '\0' };
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, seps);

		if (col > indent && col + 1 + (int)len > WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)len, p);
		col += (int)len;
		p += len;
		while (*p == sep)
			p++;
	}
	fputc('\n', f);
}

static void wrap(FILE *f, const char *text, int col, int indent)
{
	wrap_at(f, text, ' ', col, indent);
}

/* Synopsis pieces are joined by TOKEN_SEP, so that help breaks lines between
 * "[--node-name NAME]" and the next piece, never inside one. */
#define TOKEN_SEP '\x1f'

/* ---- Synopsis ---------------------------------------------------------- */

/* Options in the order help shows them: the table's, with the ones every
 * command takes (--output, --help) last. */
static enum cli_opt option_at(int k)
{
	return k < OPT__COUNT - 2 ? (enum cli_opt)(k + 2) : k == OPT__COUNT - 2 ? OPT_OUTPUT : OPT_HELP;
}

/* A growing string.  Help text comes from the tables, so running out of
 * memory is the only way to lose some; then the text stays as it was. */
struct sbuf {
	char *buf;
	size_t len, cap;
};

static void sb_add(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (s->len + (size_t)n + 1 > s->cap) {
		size_t cap = 2 * (s->len + (size_t)n + 1);
		char *nb = realloc(s->buf, cap);

		if (!nb)
			return;
		s->buf = nb;
		s->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

/* The text ("" when empty), valid until the next sb_add or sb_free. */
static const char *sb_str(const struct sbuf *s)
{
	return s->buf ? s->buf : "";
}

static void sb_free(struct sbuf *s)
{
	free(s->buf);
	*s = (struct sbuf){ 0 };
}

/* How each piece of a synopsis looks: plain text for --help, roff for the
 * man page. */
struct style {
	const char *bold, *italic, *roman, *dash;
	const char *nobreak;   /* before a name: no hyphenation inside it */
	const char *space;     /* between an option and its argument */
};
static const struct style plain = { "", "", "", "-", "", " " };
static const struct style roff = { "\\fB", "\\fI", "\\fR", "\\-", "\\%", "\\ " };

/* "foo-bar" with each dash in the style's spelling. */
static void sb_name(struct sbuf *s, const struct style *st, const char *name)
{
	for (; *name; name++)
		if (*name == '-')
			sb_add(s, "%s", st->dash);
		else
			sb_add(s, "%c", *name);
}

static void sb_option(struct sbuf *s, const struct style *st, enum cli_opt id, bool required)
{
	const struct cli_option *o = &cli_options[id];

	sb_add(s, "%c%s%s%s", TOKEN_SEP, st->nobreak, required ? "" : "[", st->bold);
	sb_name(s, st, "--");
	sb_name(s, st, o->name);
	sb_add(s, "%s", st->roman);
	if (o->arg) {
		sb_add(s, "%s%s", st->space, st->italic);
		sb_name(s, st, o->arg);
		sb_add(s, "%s", st->roman);
	}
	sb_add(s, "%s%s", required ? "" : "]", o->flags & CLI_OPT_REPEAT ? "..." : "");
}

/* Required options first, in table order, then the others, then the
 * positional arguments.  --help goes without saying. */
static void synopsis(struct sbuf *s, const struct style *st, const struct cli_command *cmd)
{
	sb_add(s, "%s", st->bold);
	sb_name(s, st, "k8snet ");
	sb_name(s, st, cmd->path);
	sb_add(s, "%s", st->roman);
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < OPT__COUNT; k++) {
			enum cli_opt i = option_at(k);
			bool req = cli_list_has(cli_options[i].required, cmd->path);

			if (i == OPT_HELP || !cli_takes(i, cmd->path) || req != (pass == 0))
				continue;
			sb_option(s, st, i, req);
		}
	if (cmd->args) {
		sb_add(s, "%c%s", TOKEN_SEP, st->italic);
		sb_name(s, st, cmd->args);
		sb_add(s, "%s", st->roman);
	}
}

/* ---- --help ------------------------------------------------------------- */

/* "required, repeatable; old name: --netns" for an option in a command, in
 * the parentheses that end its help (or in new ones). */
static void notes(struct sbuf *s, enum cli_opt id, const char *path)
{
	const struct cli_option *o = &cli_options[id];
	bool paren = s->len && s->buf[s->len - 1] == ')';
	size_t start;

	if (paren)
		s->buf[--s->len] = '\0';  /* reopen the help's own parentheses */
	start = s->len;
	if (cli_list_has(o->required, path))
		sb_add(s, "%srequired", paren ? "; " : " (");
	if (o->flags & CLI_OPT_REPEAT)
		sb_add(s, "%srepeatable", s->len > start ? ", " : paren ? "; " : " (");
	/* Old names first, then the command's other spellings. */
	for (int same = 0; same < 2; same++) {
		bool first = true;

		for (size_t i = 0; i < cli_n_aliases; i++) {
			const struct cli_alias *a = &cli_aliases[i];

			if (a->target != id || a->same_name != same || cli_find_alias(a->name, path) != a)
				continue;
			if (first)
				sb_add(s, "%s%s", s->len > start || paren ? "; " : " (",
				       same ? "also: " : "old name: ");
			sb_add(s, "%s--%s", first ? "" : ", ", a->name);
			first = false;
		}
	}
	if (paren || s->len > start)
		sb_add(s, ")");
}

static void option_help(FILE *f, enum cli_opt id, const char *path)
{
	const struct cli_option *o = &cli_options[id];
	struct sbuf head = { 0 }, text = { 0 };
	int col;

	if (o->short_name)
		sb_add(&head, "  -%c, --%s", o->short_name, o->name);
	else
		sb_add(&head, "  --%s", o->name);
	if (o->arg)
		sb_add(&head, " %s", o->arg);
	sb_add(&text, "%s", o->help);
	notes(&text, id, path);
	fputs(sb_str(&head), f);
	col = (int)head.len;
	if (col >= HELP_COLUMN - 1) {
		fprintf(f, "\n%*s", HELP_COLUMN, "");
		col = HELP_COLUMN;
	}
	fprintf(f, "%*s", HELP_COLUMN - col, "");
	wrap(f, sb_str(&text), HELP_COLUMN, HELP_COLUMN);
	sb_free(&head);
	sb_free(&text);
}

static int command_help(const struct cli_command *cmd, FILE *f)
{
	struct sbuf s = { 0 };

	synopsis(&s, &plain, cmd);
	fputs("Usage: ", f);
	wrap_at(f, sb_str(&s), TOKEN_SEP, 7, 9);
	sb_free(&s);
	fprintf(f, "\n%c%s.\n\nOptions:\n", toupper((unsigned char)cmd->summary[0]),
		cmd->summary + 1);
	for (int pass = 0; pass < 2; pass++)
		for (int k = 0; k < OPT__COUNT; k++) {
			enum cli_opt i = option_at(k);
			bool req = cli_list_has(cli_options[i].required, cmd->path);

			if (cli_takes(i, cmd->path) && req == (pass == 0))
				option_help(f, i, cmd->path);
		}
	fprintf(f, "\nMore in k8snet(1).  Exit status: 0 success, 1 failure (or a negative "
		"answer),\n2 a bad command line or input.\n");
	return fflush(f) == 0 ? CLI_OK : CLI_FAIL;
}

static const char *group_summary(const char *path)
{
	for (size_t i = 0; i < cli_n_groups; i++)
		if (strcmp(cli_groups[i].path, path) == 0)
			return cli_groups[i].summary;
	return NULL;
}

static bool under(const char *path, const char *group)
{
	size_t n = strlen(group);

	return !n || (strncmp(path, group, n) == 0 && path[n] == ' ');
}

#define LIST_COLUMN 25

static void command_list(FILE *f, const char *group)
{
	for (size_t i = 0; i < cli_n_commands; i++) {
		const struct cli_command *c = &cli_commands[i];

		if (!under(c->path, group))
			continue;
		if (strlen(c->path) + 3 > LIST_COLUMN)
			fprintf(f, "  %s\n%*s", c->path, LIST_COLUMN, "");
		else
			fprintf(f, "  %-*s", LIST_COLUMN - 2, c->path);
		wrap(f, c->summary, LIST_COLUMN, LIST_COLUMN);
	}
}

int cli_help_path(const char *path, FILE *f)
{
	const struct cli_command *cmd = cli_find_command(path);
	const char *summary;

	if (cmd)
		return command_help(cmd, f);
	if (!*path) {
		fputs("Usage: k8snet COMMAND [OPTION...] [ARGUMENT...]\n"
		      "       k8snet help [COMMAND...]\n\n"
		      "Kubernetes pod networking on one node, one operation at a time, with\n"
		      "libk8snet " K8SNET_VERSION_STRING ".\n\nCommands:\n", f);
		command_list(f, "");
		fputs("\n'k8snet COMMAND --help' (or 'k8snet help COMMAND') shows a command's "
		      "options;\nk8snet(1) has them all.  Exit status: 0 success, 1 failure or a "
		      "negative\nanswer, 2 a bad command line or input.\n", f);
		return fflush(f) == 0 ? CLI_OK : CLI_FAIL;
	}
	summary = group_summary(path);
	fprintf(f, "Usage: k8snet %s COMMAND [OPTION...] [ARGUMENT...]\n\n", path);
	if (summary)
		fprintf(f, "%c%s.\n\n", toupper((unsigned char)summary[0]), summary + 1);
	fputs("Commands:\n", f);
	command_list(f, path);
	fprintf(f, "\n'k8snet %s COMMAND --help' shows a command's options.\n", path);
	return fflush(f) == 0 ? CLI_OK : CLI_FAIL;
}

/* ---- k8snet(1) ---------------------------------------------------------- */

static void roff_text(FILE *f, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '-')
			fputs("\\-", f);
		else if (*p == '\\')
			fputs("\\e", f);
		else
			fputc(*p, f);
	}
}

/* The commands of a comma-separated list, or "every command". */
static void roff_commands(FILE *f, const char *list)
{
	if (strcmp(list, "*") == 0)
		fputs("every command", f);
	else
		roff_text(f, list);
}

static void man_option(FILE *f, enum cli_opt id)
{
	const struct cli_option *o = &cli_options[id];
	bool old = false;

	fputs(".TP\n", f);
	if (o->short_name)
		fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
	fputs("\\fB\\%\\-\\-", f);
	roff_text(f, o->name);
	fputs("\\fR", f);
	if (o->arg) {
		fputs(" \\fI", f);
		roff_text(f, o->arg);
		fputs("\\fR", f);
	}
	fprintf(f, "\n%c", toupper((unsigned char)o->help[0]));
	roff_text(f, o->help + 1);
	fputs(".\n", f);
	if (o->flags & CLI_OPT_REPEAT)
		fputs("May be given more than once.\n", f);
	fputs("Taken by ", f);
	roff_commands(f, o->commands);
	if (o->required) {
		fputs("; required by ", f);
		roff_commands(f, o->required);
	}
	fputs(".\n", f);
	for (size_t i = 0; i < cli_n_aliases; i++) {
		const struct cli_alias *a = &cli_aliases[i];

		if (a->target != id || a->same_name)
			continue;
		fputs(old ? ";\n" : "Old name, taken until after release 0.2:\n", f);
		fputs("\\fB\\%\\-\\-", f);
		roff_text(f, a->name);
		fputs("\\fR", f);
		if (a->commands) {
			fputs(" in ", f);
			roff_commands(f, a->commands);
		}
		old = true;
	}
	if (old)
		fputs(".\n", f);
	for (size_t i = 0; i < cli_n_aliases; i++) {
		const struct cli_alias *a = &cli_aliases[i];

		if (a->target != id || !a->same_name)
			continue;
		fputs("Also spelled \\fB\\%\\-\\-", f);
		roff_text(f, a->name);
		fputs("\\fR in ", f);
		roff_commands(f, a->commands);
		fputs(".\n", f);
	}
}

/* `k8snet __man options`: what k8snet(1) holds between ".SH OPTIONS" and the
 * next section; `k8snet __man commands`: the ".TP" heading of each command's
 * entry.  tests/cli/test-cli-man.sh compares them with the page. */
int cli_man(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "options") == 0) {
		for (int k = 0; k < OPT__COUNT; k++)
			man_option(stdout, option_at(k));
		return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	}
	if (argc == 1 && strcmp(argv[0], "commands") == 0) {
		for (size_t i = 0; i < cli_n_commands; i++) {
			struct sbuf s = { 0 };

			synopsis(&s, &roff, &cli_commands[i]);
			for (char *p = s.buf ? strchr(s.buf, TOKEN_SEP) : NULL; p;
			     p = strchr(p, TOKEN_SEP))
				*p = ' ';
			printf(".TP\n%s\n", sb_str(&s));
			sb_free(&s);
		}
		return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
	}
	return cli_usage_error("usage: k8snet __man options|commands");
}

/* ---- Completion --------------------------------------------------------- */

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Print each space-separated word of list that starts with cur. */
static void complete_words(const char *list, const char *cur)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ");

		if (len >= strlen(cur) && strncmp(p, cur, strlen(cur)) == 0)
			printf("%.*s\n", (int)len, p);
		p += len;
		while (*p == ' ')
			p++;
	}
}

/* The words that may follow group (every first word for ""). */
static void complete_subcommands(const char *group, const char *cur)
{
	size_t n = strlen(group);

	for (size_t i = 0; i < cli_n_commands; i++) {
		const char *p = cli_commands[i].path, *word;
		size_t len;
		bool seen = false;

		if (!under(p, group))
			continue;
		word = p + (n ? n + 1 : 0);
		len = strcspn(word, " ");
		for (size_t j = 0; j < i && !seen; j++) {
			const char *q = cli_commands[j].path;

			seen = under(q, group) && strncmp(q + (n ? n + 1 : 0), word, len) == 0 &&
			       (q[(n ? n + 1 : 0) + len] == ' ' || !q[(n ? n + 1 : 0) + len]);
		}
		if (!seen && len >= strlen(cur) && strncmp(word, cur, strlen(cur)) == 0)
			printf("%.*s\n", (int)len, word);
	}
}

/* Whether the ", "-separated list holds word. */
static bool listed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return false;
}

void cli_group_words(const char *group, char *buf, size_t size)
{
	size_t n = strlen(group);

	buf[0] = '\0';
	for (size_t i = 0; i < cli_n_commands; i++) {
		const char *p = cli_commands[i].path, *word = p + (n ? n + 1 : 0);
		size_t len = strlen(buf);
		char w[64];

		if (!under(p, group))
			continue;
		snprintf(w, sizeof(w), "%.*s", (int)strcspn(word, " "), word);
		if (!listed(buf, w))  /* "node peer add" and "del" give "peer" once */
			snprintf(buf + len, size - len, "%s%s", len ? ", " : "", w);
	}
}

/* Walk words (none an option) down the command tree: the command reached,
 * or NULL with group set; false when a word names nothing. */
static bool walk(int n, char **words, const struct cli_command **ret_cmd, int *ret_used,
		 char *group, size_t size)
{
	*ret_cmd = NULL;
	group[0] = '\0';
	for (int i = 0; i < n; i++) {
		char cand[256];

		if (words[i][0] == '-')
			continue;
		snprintf(cand, sizeof(cand), "%s%s%s", group, *group ? " " : "", words[i]);
		*ret_cmd = cli_find_command(cand);
		if (*ret_cmd) {
			*ret_used = i + 1;
			return true;
		}
		for (size_t j = 0; j < cli_n_commands; j++)
			if (under(cli_commands[j].path, cand)) {
				snprintf(group, size, "%s", cand);
				break;
			}
		if (strcmp(group, cand) != 0)
			return false;
	}
	return true;
}

static int complete_tree(int n, char **words, const char *cur);

/* The options of cmd not given yet (repeatable ones always), under their
 * own names. */
static void complete_options(const struct cli_command *cmd, int n, char **words, const char *cur)
{
	bool given[OPT__COUNT] = { false };

	for (int j = 0; j < n; j++) {
		char name[64];
		int id;

		if (strncmp(words[j], "--", 2) != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(words[j] + 2, "="), words[j] + 2);
		id = cli_lookup_option(cmd->path, name);
		if (id >= 0)
			given[id] = true;
	}
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_option *o = &cli_options[i];
		char name[64];

		if (!cli_takes(i, cmd->path) || (given[i] && !(o->flags & CLI_OPT_REPEAT)))
			continue;
		snprintf(name, sizeof(name), "--%s", o->name);
		if (starts_with(name, cur))
			printf("%s\n", name);
	}
}

/* The option whose value the word after prev is, or -1. */
static int value_of(const struct cli_command *cmd, const char *prev)
{
	const struct cli_alias *alias;

	if (!prev || prev[0] != '-')
		return -1;
	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->arg || !cli_takes(i, cmd->path))
			continue;
		if ((prev[1] == '-' && strcmp(prev + 2, o->name) == 0) ||
		    (prev[1] == o->short_name && !prev[2]))
			return i;
	}
	alias = prev[1] == '-' ? cli_find_alias(prev + 2, cmd->path) : NULL;
	return alias && cli_options[alias->target].arg ? (int)alias->target : -1;
}

static int complete_command(const struct cli_command *cmd, int n, char **words, const char *cur)
{
	int id = value_of(cmd, n ? words[n - 1] : NULL);

	if (id >= 0) {
		if (cli_options[id].choices)
			complete_words(cli_options[id].choices, cur);
		else if (cli_options[id].flags & CLI_OPT_FILE)
			puts("@file");
		return CLI_OK;
	}
	if (cur[0] == '-') {
		complete_options(cmd, n, words, cur);
		return CLI_OK;
	}
	if (!cmd->complete)
		return CLI_OK;
	if (strcmp(cmd->complete, "@file") == 0)
		puts("@file");
	else if (strcmp(cmd->complete, "@command") == 0)
		return complete_tree(n, words, cur);
	else
		complete_words(cmd->complete, cur);
	return CLI_OK;
}

static int complete_tree(int n, char **words, const char *cur)
{
	const struct cli_command *cmd;
	char group[256];
	int used = 0;

	if (!walk(n, words, &cmd, &used, group, sizeof(group)))
		return CLI_OK;
	if (cmd)
		return complete_command(cmd, n - used, words + used, cur);
	if (cur[0] == '-')
		complete_words(*group ? "--help" : "--help --version", cur);
	else
		complete_subcommands(group, cur);
	return CLI_OK;
}

/* `k8snet __complete WORD... CURRENT`: the candidates for CURRENT, one a
 * line, or "@file" for the shell to complete file names. */
int cli_complete(int argc, char **argv)
{
	if (argc < 1)
		return CLI_USAGE;
	complete_tree(argc - 1, argv, argv[argc - 1]);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

/* ---- The tables' own consistency --------------------------------------- */

static int check_list(const char *what, const char *list)
{
	int bad = 0;

	if (!list || strcmp(list, "*") == 0)
		return 0;
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		char path[128];

		snprintf(path, sizeof(path), "%.*s", (int)len, p);
		if (!cli_find_command(path)) {
			printf("%s: no command '%s'\n", what, path);
			bad = 1;
		}
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return bad;
}

static int check_options(void)
{
	int bad = 0;

	for (int i = 0; i < OPT__COUNT; i++) {
		const struct cli_option *o = &cli_options[i];

		if (!o->name || !o->help || !o->commands) {
			printf("option %d: no name, help or commands\n", i);
			bad = 1;
			continue;
		}
		bad |= check_list(o->name, o->commands) | check_list(o->name, o->required);
		for (size_t c = 0; o->required && c < cli_n_commands; c++)
			if (cli_list_has(o->required, cli_commands[c].path) &&
			    !cli_takes(i, cli_commands[c].path)) {
				printf("--%s: required by %s, which does not take it\n", o->name,
				       cli_commands[c].path);
				bad = 1;
			}
		for (int j = 0; j < i; j++)
			if (strcmp(cli_options[j].name, o->name) == 0) {
				printf("--%s: two meanings\n", o->name);
				bad = 1;
			}
	}
	return bad;
}

static int check_aliases(void)
{
	int bad = 0;

	for (size_t i = 0; i < cli_n_aliases; i++) {
		const struct cli_alias *a = &cli_aliases[i];

		bad |= check_list(a->name, a->commands);
		for (size_t c = 0; c < cli_n_commands; c++) {
			const char *path = cli_commands[c].path;

			if (!cli_takes(a->target, path) || (a->commands && !cli_list_has(a->commands, path)))
				continue;
			for (int o = 0; o < OPT__COUNT; o++)
				if (strcmp(cli_options[o].name, a->name) == 0 && cli_takes(o, path)) {
					printf("--%s in %s: both an option and an old name\n", a->name, path);
					bad = 1;
				}
			if (cli_find_alias(a->name, path) != a) {
				printf("--%s in %s: two old meanings\n", a->name, path);
				bad = 1;
			}
		}
	}
	return bad;
}

static int check_commands(void)
{
	int bad = 0;

	for (size_t i = 0; i < cli_n_commands; i++) {
		const struct cli_command *c = &cli_commands[i];
		char group[128];

		for (size_t j = 0; j < cli_n_commands; j++)
			if (under(cli_commands[j].path, c->path)) {
				printf("%s: both a command and a group\n", c->path);
				bad = 1;
			}
		snprintf(group, sizeof(group), "%s", c->path);
		for (char *sp = strrchr(group, ' '); sp; sp = strrchr(group, ' ')) {
			*sp = '\0';
			if (!group_summary(group)) {
				printf("group '%s' has no summary\n", group);
				bad = 1;
			}
		}
		if (!c->run || !c->summary || (!c->args && c->max_args) || c->min_args < 0 ||
		    (c->max_args >= 0 && c->max_args < c->min_args)) {
			printf("%s: incomplete entry\n", c->path);
			bad = 1;
		}
	}
	return bad;
}

int cli_check_tables(void)
{
	int bad = check_options() | check_aliases() | check_commands();

	if (!bad)
		printf("the command and option tables are consistent\n");
	return bad ? CLI_FAIL : CLI_OK;
}
