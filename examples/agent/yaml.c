/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The YAML that kubeconfig files are written in, read into a cJSON tree.
 *
 * kubectl and kubeadm write kubeconfig as block YAML: mappings, sequences of
 * mappings (often with the dash at the key's own indentation), plain and
 * quoted scalars, `{}` for empty maps.  That subset is read here; anchors,
 * tags, multi-line and block scalars are refused with a message naming the
 * line, rather than misread.  A document that is JSON (also valid YAML) is
 * best given to cJSON directly; kubeconfig.c does that.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

struct yline {
	int indent;
	int lineno;
	char *text;      /* without indentation, comment and trailing blanks */
};

struct yparser {
	struct yline *lines;
	size_t n, i;
	char *err;
};

static int yfail(struct yparser *y, int lineno, const char *msg)
{
	if (!y->err)
		y->err = xasprintf("line %d: %s", lineno, msg);
	return -EINVAL;
}

/* Cut a comment (" #..." or a leading "#") outside quotes, and trailing
 * blanks.  Returns -1 on an unterminated quote. */
static int strip_comment(char *s)
{
	char q = 0, *p, *end;

	for (p = s; *p; p++) {
		if (q) {
			if (q == '"' && *p == '\\' && p[1])
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			if (p == s || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':' || p[-1] == '-' ||
			    p[-1] == '[' || p[-1] == '{' || p[-1] == ',')
				q = *p;
		} else if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return q ? -1 : 0;
}

static int split_lines(struct yparser *y, const char *text)
{
	const char *p = text;
	int lineno = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *s = strndup(p, len), *t = s;
		int indent = 0;

		lineno++;
		p += len + (nl ? 1 : 0);
		if (!s)
			return -ENOMEM;
		while (*t == ' ') {
			t++;
			indent++;
		}
		if (*t == '\t') {
			free(s);
			return yfail(y, lineno, "tab in indentation");
		}
		if (strip_comment(t) < 0) {
			free(s);
			return yfail(y, lineno, "unterminated quoted string (multi-line scalars are not supported)");
		}
		if (!*t || strcmp(t, "---") == 0 || strcmp(t, "...") == 0 ||
		    (*t == '%' && indent == 0)) {
			free(s);
			continue;
		}
		if (y->n % 64 == 0) {
			struct yline *v = realloc(y->lines, (y->n + 64) * sizeof(*v));

			if (!v) {
				free(s);
				return -ENOMEM;
			}
			y->lines = v;
		}
		memmove(s, t, strlen(t) + 1);
		y->lines[y->n++] = (struct yline){ indent, lineno, s };
	}
	return 0;
}

static bool is_dash(const char *t)
{
	return t[0] == '-' && (t[1] == '\0' || t[1] == ' ');
}

/* Where the ": " (or final ":") separating key and value is, outside quotes;
 * NULL when the line is not a mapping entry. */
static char *find_colon(char *t)
{
	char q = 0, *p;

	for (p = t; *p; p++) {
		if (q) {
			if (q == '"' && *p == '\\' && p[1])
				p++;
			else if (*p == q)
				q = 0;
		} else if ((*p == '"' || *p == '\'') && p == t) {
			q = *p;
		} else if (*p == ':' && (p[1] == '\0' || p[1] == ' ')) {
			return p;
		}
	}
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A double-quoted scalar's escapes; \uXXXX for the BMP. */
static char *unescape_double(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c != '\\') {
			*o++ = c;
			continue;
		}
		if (++i >= len)
			goto bad;
		switch (s[i]) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case '0': *o++ = '\0'; break;
		case '"': case '\\': case '/': case ' ': *o++ = s[i]; break;
		case 'u': {
			unsigned v = 0;
			int k;

			for (k = 1; k <= 4; k++) {
				int h = i + (size_t)k < len ? hexval(s[i + (size_t)k]) : -1;

				if (h < 0)
					goto bad;
				v = v * 16 + (unsigned)h;
			}
			i += 4;
			if (v < 0x80) {
				*o++ = (char)v;
			} else if (v < 0x800) {
				*o++ = (char)(0xc0 | (v >> 6));
				*o++ = (char)(0x80 | (v & 0x3f));
			} else {
				*o++ = (char)(0xe0 | (v >> 12));
				*o++ = (char)(0x80 | ((v >> 6) & 0x3f));
				*o++ = (char)(0x80 | (v & 0x3f));
			}
			break;
		}
		default:
			goto bad;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* A scalar (or the empty flow collections) from one line's text. */
static int scalar(struct yparser *y, int lineno, const char *t, cJSON **ret)
{
	size_t len = strlen(t);
	char *s;

	*ret = NULL;
	if (strcmp(t, "{}") == 0) {
		*ret = cJSON_CreateObject();
	} else if (strcmp(t, "[]") == 0) {
		*ret = cJSON_CreateArray();
	} else if (t[0] == '{' || t[0] == '[') {
		/* A flow collection written as JSON is fine; others are not. */
		*ret = cJSON_Parse(t);
		if (!*ret)
			return yfail(y, lineno, "flow collections are supported only in JSON form");
		return 0;
	} else if (t[0] == '&' || t[0] == '*' || t[0] == '!') {
		return yfail(y, lineno, "anchors, aliases and tags are not supported");
	} else if (t[0] == '|' || t[0] == '>') {
		return yfail(y, lineno, "block scalars (| and >) are not supported");
	} else if (t[0] == '"') {
		if (len < 2 || t[len - 1] != '"')
			return yfail(y, lineno, "text after a quoted string");
		s = unescape_double(t + 1, len - 2);
		if (!s)
			return yfail(y, lineno, "bad escape in a double-quoted string");
		*ret = cJSON_CreateString(s);
		free(s);
	} else if (t[0] == '\'') {
		char *o;
		size_t i;

		if (len < 2 || t[len - 1] != '\'')
			return yfail(y, lineno, "text after a quoted string");
		s = malloc(len);
		if (!s)
			return -ENOMEM;
		for (i = 1, o = s; i < len - 1; i++) {
			*o++ = t[i];
			if (t[i] == '\'' && t[i + 1] == '\'')
				i++;
		}
		*o = '\0';
		*ret = cJSON_CreateString(s);
		free(s);
	} else if (strcmp(t, "null") == 0 || strcmp(t, "~") == 0) {
		*ret = cJSON_CreateNull();
	} else {
		*ret = cJSON_CreateString(t);
	}
	return *ret ? 0 : -ENOMEM;
}

static int block(struct yparser *y, int indent, cJSON **ret);

/* The value of "key:" with nothing after the colon: a nested block, a
 * sequence at the key's own indentation, or null. */
static int nested(struct yparser *y, int indent, cJSON **ret)
{
	if (y->i < y->n && y->lines[y->i].indent > indent)
		return block(y, y->lines[y->i].indent, ret);
	if (y->i < y->n && y->lines[y->i].indent == indent && is_dash(y->lines[y->i].text))
		return block(y, indent, ret);
	*ret = cJSON_CreateNull();
	return *ret ? 0 : -ENOMEM;
}

static int sequence(struct yparser *y, int indent, cJSON *arr)
{
	while (y->i < y->n && y->lines[y->i].indent == indent && is_dash(y->lines[y->i].text)) {
		struct yline *l = &y->lines[y->i];
		char *rest = l->text + 1;
		cJSON *item = NULL;
		int r, skip = 1;

		while (*rest == ' ') {
			rest++;
			skip++;
		}
		if (!*rest) {
			y->i++;
			r = y->i < y->n && y->lines[y->i].indent > indent ?
				block(y, y->lines[y->i].indent, &item) :
				((item = cJSON_CreateNull()) ? 0 : -ENOMEM);
		} else {
			/* "- key: v" opens a mapping whose keys line up with "key". */
			memmove(l->text, rest, strlen(rest) + 1);
			l->indent += skip;
			r = block(y, l->indent, &item);
		}
		if (r < 0)
			return r;
		cJSON_AddItemToArray(arr, item);
	}
	return 0;
}

static int mapping(struct yparser *y, int indent, cJSON *obj)
{
	while (y->i < y->n && y->lines[y->i].indent == indent) {
		struct yline *l = &y->lines[y->i];
		char *colon = find_colon(l->text), *val;
		cJSON *key = NULL, *v = NULL;
		int r;

		if (is_dash(l->text))
			return yfail(y, l->lineno, "a sequence item where a mapping key was expected");
		if (!colon)
			return yfail(y, l->lineno, "expected \"key: value\"");
		*colon = '\0';
		val = colon + 1;
		while (*val == ' ')
			val++;
		r = scalar(y, l->lineno, l->text, &key);
		if (r >= 0 && !cJSON_IsString(key))
			r = yfail(y, l->lineno, "mapping keys must be strings");
		y->i++;
		if (r >= 0)
			r = *val ? scalar(y, l->lineno, val, &v) : nested(y, indent, &v);
		if (r >= 0 && cJSON_GetObjectItemCaseSensitive(obj, key->valuestring))
			r = yfail(y, l->lineno, "duplicate key");
		if (r >= 0)
			cJSON_AddItemToObject(obj, key->valuestring, v);
		else
			cJSON_Delete(v);
		cJSON_Delete(key);
		if (r < 0)
			return r;
	}
	if (y->i < y->n && y->lines[y->i].indent > indent)
		return yfail(y, y->lines[y->i].lineno, "unexpected indentation");
	return 0;
}

static int block(struct yparser *y, int indent, cJSON **ret)
{
	struct yline *l = &y->lines[y->i];
	cJSON *node;
	int r;

	*ret = NULL;
	if (is_dash(l->text)) {
		node = cJSON_CreateArray();
		r = node ? sequence(y, indent, node) : -ENOMEM;
	} else if (find_colon(l->text)) {
		node = cJSON_CreateObject();
		r = node ? mapping(y, indent, node) : -ENOMEM;
	} else {
		r = scalar(y, l->lineno, l->text, &node);
		y->i++;
		if (r >= 0 && y->i < y->n && y->lines[y->i].indent > indent)
			r = yfail(y, y->lines[y->i].lineno, "multi-line plain scalars are not supported");
	}
	if (r < 0) {
		cJSON_Delete(node);
		return r;
	}
	*ret = node;
	return 0;
}

int yaml_parse(const char *text, cJSON **ret, char **err)
{
	struct yparser y = { 0 };
	cJSON *root = NULL;
	size_t i;
	int r = split_lines(&y, text);

	if (r >= 0 && y.n == 0)
		r = yfail(&y, 1, "empty document");
	if (r >= 0)
		r = block(&y, y.lines[0].indent, &root);
	if (r >= 0 && y.i < y.n)
		r = yfail(&y, y.lines[y.i].lineno, "unexpected indentation");
	for (i = 0; i < y.n; i++)
		free(y.lines[i].text);
	free(y.lines);
	if (r < 0) {
		cJSON_Delete(root);
		root = NULL;
		if (!y.err && r == -ENOMEM)
			y.err = xstrdup("out of memory");
	}
	*ret = root;
	if (err)
		*err = y.err;
	else
		free(y.err);
	return r;
}
