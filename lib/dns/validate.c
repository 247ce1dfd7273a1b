/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The apimachinery name rules (k8s.io/apimachinery/pkg/util/validation).
 * Each check reports the first rule the name breaks, in the order the
 * apimachinery lists its errors, so a caller can tell the user what to fix.
 */
#include <string.h>

#include "dns/dns-internal.h"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n), no length limit. */
static const char *check_1123_label_chars(const char *s, size_t n, bool letter_first)
{
	size_t i;

	if (n == 0)
		return "must not be empty";
	for (i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "must consist of lower case alphanumeric characters or '-'";
	if (letter_first && !(s[0] >= 'a' && s[0] <= 'z'))
		return "must start with a lower case letter";
	if (s[0] == '-')
		return "must start with an alphanumeric character";
	if (s[n - 1] == '-')
		return "must end with an alphanumeric character";
	return NULL;
}

static const char *check_label(const char *name, bool letter_first)
{
	size_t n = strlen(name);

	if (n > K8S_DNS_LABEL_MAX)
		return "must be no more than 63 characters";
	return check_1123_label_chars(name, n, letter_first);
}

static const char *check_subdomain(const char *name)
{
	const char *p = name, *dot;
	size_t n = strlen(name);

	if (n == 0)
		return "must not be empty";
	if (n > K8S_DNS_SUBDOMAIN_MAX)
		return "must be no more than 253 characters";
	for (;;) {
		const char *why;

		dot = strchr(p, '.');
		why = check_1123_label_chars(p, dot ? (size_t)(dot - p) : strlen(p), false);
		if (why) {
			if (dot && dot == p)
				return "must not contain an empty label ('..', or a leading '.')";
			if (!dot && !*p)
				return "must not end with '.'";
			return why;
		}
		if (!dot)
			return NULL;
		p = dot + 1;
	}
}

/* The rules of a label value and of the name part of a label key:
 * ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters. */
enum { NAME_PART_LONG, NAME_PART_CHARS, NAME_PART_START, NAME_PART_END, NAME_PART_OK };

static const char *const value_rules[] = {
	[NAME_PART_LONG] = "must be no more than 63 characters",
	[NAME_PART_CHARS] = "must consist of alphanumeric characters, '-', '_' or '.'",
	[NAME_PART_START] = "must start with an alphanumeric character",
	[NAME_PART_END] = "must end with an alphanumeric character",
};

static const char *const key_name_rules[] = {
	[NAME_PART_LONG] = "name part must be no more than 63 characters",
	[NAME_PART_CHARS] = "name part must consist of alphanumeric characters, '-', '_' or '.'",
	[NAME_PART_START] = "name part must start with an alphanumeric character",
	[NAME_PART_END] = "name part must end with an alphanumeric character",
};

static int name_part_rule(const char *s)
{
	size_t i, n = strlen(s);

	if (n > K8S_DNS_LABEL_MAX)
		return NAME_PART_LONG;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return NAME_PART_CHARS;
	if (n && !is_alnum(s[0]))
		return NAME_PART_START;
	if (n && !is_alnum(s[n - 1]))
		return NAME_PART_END;
	return NAME_PART_OK;
}

static const char *check_label_value(const char *value)
{
	int rule = name_part_rule(value);

	return rule == NAME_PART_OK ? NULL : value_rules[rule];
}

static const char *check_label_key(const char *name)
{
	const char *slash = strchr(name, '/'), *part = name;
	int rule;

	if (slash) {
		size_t plen = (size_t)(slash - name);
		char *prefix;
		const char *why;

		if (strchr(slash + 1, '/'))
			return "must be a name with at most one '/' (an optional DNS subdomain prefix and '/')";
		if (plen == 0)
			return "prefix part must not be empty";
		if (plen > K8S_DNS_SUBDOMAIN_MAX)
			return "prefix part must be no more than 253 characters";
		prefix = strndup(name, plen);
		if (!prefix)
			return "out of memory";
		why = check_subdomain(prefix);
		free(prefix);
		if (why)
			return "prefix part must be a lowercase DNS-1123 subdomain";
		part = slash + 1;
	}
	if (!*part)
		return "name part must not be empty";
	rule = name_part_rule(part);
	return rule == NAME_PART_OK ? NULL : key_name_rules[rule];
}

static const char *check_port_name(const char *name)
{
	size_t i, n = strlen(name);
	bool letter = false;

	if (n == 0)
		return "must not be empty";
	if (n > K8S_DNS_PORT_NAME_MAX)
		return "must be no more than 15 characters";
	for (i = 0; i < n; i++) {
		if (!is_lower_alnum(name[i]) && name[i] != '-')
			return "must contain only lower case alphanumeric characters (a-z, 0-9) and '-'";
		letter |= name[i] >= 'a' && name[i] <= 'z';
	}
	if (!letter)
		return "must contain at least one letter (a-z)";
	if (strstr(name, "--"))
		return "must not contain consecutive hyphens";
	if (name[0] == '-' || name[n - 1] == '-')
		return "must not begin or end with a hyphen";
	return NULL;
}

const char *k8s_dns_check(uint32_t kind, const char *name)
{
	switch (kind) {
	case K8SNET_DNS_LABEL:
		return check_label(name, false);
	case K8SNET_DNS_1035_LABEL:
		return check_label(name, true);
	case K8SNET_DNS_SUBDOMAIN:
		return check_subdomain(name);
	case K8SNET_DNS_LABEL_KEY:
		return check_label_key(name);
	case K8SNET_DNS_LABEL_VALUE:
		return check_label_value(name);
	case K8SNET_DNS_PORT_NAME:
		return check_port_name(name);
	}
	return "unknown kind of name";
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case K8SNET_DNS_LABEL:
		return "a DNS-1123 label";
	case K8SNET_DNS_1035_LABEL:
		return "a DNS-1035 label";
	case K8SNET_DNS_SUBDOMAIN:
		return "a DNS-1123 subdomain";
	case K8SNET_DNS_LABEL_KEY:
		return "a label key";
	case K8SNET_DNS_LABEL_VALUE:
		return "a label value";
	case K8SNET_DNS_PORT_NAME:
		return "a port name (IANA_SVC_NAME)";
	}
	return "a name";
}

int k8s_dns_require(struct k8snet_ctx *ctx, uint32_t kind, const char *what, const char *name)
{
	const char *why = k8s_dns_check(kind, name);

	if (!why)
		return 0;
	return k8s_error(ctx, -EINVAL, "%s: '%s' is not %s: %s", what, name, kind_name(kind), why);
}

K8SNET_EXPORT int k8snet_dns_validate(struct k8snet_ctx *ctx, uint32_t kind, const char *name)
{
	K8S_FORK_GUARD_CTX(ctx);
	K8S_CHECK_ARG(ctx, ctx);
	K8S_CHECK_ARG(ctx, name);
	K8S_CHECK_ARG(ctx, kind >= K8SNET_DNS_LABEL && kind <= K8SNET_DNS_PORT_NAME);
	return k8s_dns_require(ctx, kind, "name", name);
}
