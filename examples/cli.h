/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared pieces of the k8snet command line tool.
 *
 * The command line is described by two tables in cli-table.c: every command
 * (its path such as "pod attach", positional arguments, one-line purpose and
 * the function that runs it) and every option (its name, argument, one-line
 * help and the commands that take it).  The parser, `--help`, the OPTIONS
 * section of k8snet(1) and bash completion all read those tables, so adding
 * an option to a command is one entry there plus the code that uses it:
 *
 *   [OPT_FULL] = { "full", 0, NULL, "recompute everything, not only what changed",
 *                  "proxy sync, policy sync" },
 *
 * and in the command: `if (cli_flag(call, OPT_FULL)) ...`.  A command is an
 * entry in cli_commands (and its group's in cli_groups when the group is
 * new).  Then `top_builddir=. sh tests/cli/test-cli-man.sh --update` writes
 * the new synopses and OPTIONS into k8snet(1); add the prose for a new
 * command there (the test says what is missing).
 *
 * The tool uses the library's public API only (<k8snet/k8snet.h>).
 */
#ifndef K8SNET_CLI_H
#define K8SNET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <k8snet/k8snet.h>

/* Exit codes every command uses. */
#define CLI_OK 0
#define CLI_FAIL 1   /* the operation failed (or: "deny", "invalid") */
#define CLI_USAGE 2  /* bad command line or bad input */

/* ---- The option table ---------------------------------------------------- */

/* Every option of every command.  The name is its one meaning: an option
 * that means something else gets another name. */
enum cli_opt {
	OPT_HELP,
	OPT_OUTPUT,
	/* namespaces */
	OPT_NODE_NETNS,
	OPT_POD_NETNS,
	/* pod plumbing */
	OPT_CONTAINER_ID,
	OPT_BRIDGE,
	OPT_ADDRESS,
	OPT_GATEWAY,
	OPT_NO_DEFAULT_ROUTE,
	OPT_ROUTE,
	OPT_MTU,
	OPT_MAC,
	OPT_HAIRPIN,
	OPT_POD_CIDR,
	/* the node */
	OPT_IPV6,
	OPT_BRIDGE_NF,
	OPT_MODE,
	OPT_PEER_POD_CIDR,
	OPT_PEER_IP,
	OPT_VXLAN_DEV,
	OPT_VNI,
	OPT_LOCAL_IP,
	OPT_VXLAN_PORT,
	OPT_VTEP_MAC,
	/* IPAM */
	OPT_STATE,
	OPT_POOL,
	OPT_RANGE_START,
	OPT_RANGE_END,
	OPT_EXCLUDE,
	OPT_STRATEGY,
	OPT_PREFIX_LEN,
	OPT_OWNER,
	OPT_IFNAME,
	OPT_IP,
	/* Services */
	OPT_NODE_NAME,
	OPT_NODE_IP,
	OPT_NODE_ZONE,
	OPT_CLUSTER_CIDR,
	OPT_SERVICE_CIDR,
	OPT_NODEPORT_CIDR,
	OPT_NODEPORT_RANGE,
	OPT_TABLE,
	OPT_MARK_BIT,
	OPT_MASQUERADE_ALL,
	OPT_ROUND_ROBIN,
	OPT_FULL,
	OPT_NO_CONNTRACK_CLEANUP,
	OPT_FOLLOW,
	OPT_HEALTH,
	/* host ports */
	OPT_MAPPINGS,
	OPT_PREFIX,
	OPT_NETWORK,
	OPT_MASQUERADE,
	OPT_NO_HAIRPIN,
	/* NetworkPolicy */
	OPT_FROM,
	OPT_TO,
	OPT_PORT,
	OPT_PROTOCOL,
	/* DNS */
	OPT_DNS_POLICY,
	OPT_NAMESPACE,
	OPT_CLUSTER_DNS,
	OPT_CLUSTER_DOMAIN,
	OPT_HOST_NETWORK,
	OPT_HOST_RESOLV_CONF,
	OPT_DNS_CONFIG,
	OPT_LEGACY_LIMITS,
	OPT_RESOLV_CONF,
	OPT_ZONE,
	OPT_REVERSE,
	OPT_TTL,
	OPT_NAMESERVER_IP,
	/* trace, observe */
	OPT_JSON,
	/* verdict logging */
	OPT_LOG_DENIED,
	OPT_LOG_ALLOWED,
	OPT_LOG_GROUP,
	OPT_COUNTERS,
	/* observe */
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT__COUNT
};

/* cli_option.flags */
#define CLI_OPT_REPEAT 0x1u  /* may be given more than once */
#define CLI_OPT_FILE   0x2u  /* the argument names a file (completion) */
#define CLI_OPT_OPEN   0x4u  /* choices are suggestions, not checked here */

struct cli_option {
	const char *name;      /* long name, without "--" */
	char short_name;       /* 0: none */
	const char *arg;       /* the argument's name in help; NULL: a flag */
	const char *help;      /* one line, plain text */
	const char *commands;  /* the commands that take it: "pod attach, pod check" */
	const char *required;  /* those of them that need it (NULL: none) */
	unsigned flags;        /* CLI_OPT_* */
	const char *choices;   /* allowed values, space-separated (NULL: any) */
};

/* An older spelling kept for a release: NAME means option TARGET in
 * COMMANDS (NULL: wherever TARGET is taken).  With same_name, NAME is not
 * old there but a documented spelling of its own (observe's --netns, as
 * issue 17 wrote it): taken without a note, listed as "also". */
struct cli_alias {
	const char *name;
	enum cli_opt target;
	const char *commands;
	bool same_name;
};

/* ---- The command table --------------------------------------------------- */

struct cli_call;
typedef int (*cli_run_fn)(const struct cli_call *call);

struct cli_command {
	const char *path;      /* "pod attach" */
	const char *args;      /* positional arguments in help: "FILE.json"; NULL: none */
	int min_args, max_args;/* how many; max_args -1: no limit */
	const char *summary;   /* one line: what it does */
	cli_run_fn run;
	const char *complete;  /* positional completion: NULL, "@file", "@command" or words */
};

/* A group ("pod", "node peer") is any leading part of a command path; its
 * one-line purpose for `k8snet GROUP --help`. */
struct cli_group {
	const char *path;
	const char *summary;
};

extern const struct cli_option cli_options[OPT__COUNT];
extern const struct cli_alias cli_aliases[];
extern const size_t cli_n_aliases;
extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;
extern const struct cli_group cli_groups[];
extern const size_t cli_n_groups;

/* ---- A parsed command line ----------------------------------------------- */

struct cli_value {
	const char **v;        /* the values, in order (pointers into argv) */
	size_t n;
	const char *spelled;   /* the name it was given as (an alias, or the name) */
};

struct cli_call {
	const struct cli_command *cmd;
	struct cli_value opt[OPT__COUNT];
	char **args;           /* positional arguments */
	int n_args;
	bool json;             /* -o json */
};

/* The value of a single-valued option (the last given), NULL when absent. */
const char *cli_str(const struct cli_call *call, enum cli_opt id);
/* Whether a flag (or any option) was given. */
bool cli_flag(const struct cli_call *call, enum cli_opt id);
/* Every value of a repeatable option; returns how many. */
size_t cli_list(const struct cli_call *call, enum cli_opt id, const char *const **ret);
/* A number option in [min, max]: CLI_OK (ret untouched when absent) or
 * CLI_USAGE after a message naming the option. */
int cli_u32(const struct cli_call *call, enum cli_opt id, uint32_t min, uint32_t max,
	    uint32_t *ret);
/* Parse the words after a command's path into call; false when the tool
 * should exit with *ret_status instead (help shown: 0; a mistake: 2, said
 * on standard error).  Free with cli_call_free() either way. */
bool cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_call *call,
	       int *ret_status);
void cli_call_free(struct cli_call *call);
/* Run the command line: the tool's main(). */
int cli_main(int argc, char **argv);
/* Help for a command or group path ("" for the tool), on f. */
int cli_help_path(const char *path, FILE *f);
/* `k8snet __complete WORD...`, `k8snet __man WHAT`: see cli-help.c. */
int cli_complete(int argc, char **argv);
int cli_man(int argc, char **argv);
/* The words that may follow a group, "attach, check, detach", into buf. */
void cli_group_words(const char *group, char *buf, size_t size);
/* Whether the tables are consistent (`k8snet __check`); prints what is not. */
int cli_check_tables(void);
/* Whether the comma-separated list holds the command path. */
bool cli_list_has(const char *list, const char *path);
/* The command with this path, or NULL. */
const struct cli_command *cli_find_command(const char *path);
/* The option's alias for a command, or NULL. */
const struct cli_alias *cli_find_alias(const char *name, const char *path);
/* The option --name (or an old name of it) stands for in a command, or -1. */
int cli_lookup_option(const char *path, const char *name);
/* Whether an option applies to a command. */
bool cli_takes(enum cli_opt id, const char *path);

/* ---- Messages and helpers ------------------------------------------------ */

/* "k8snet: WHAT: <context message or strerror>" on one line; returns
 * CLI_USAGE for -EINVAL/-ERANGE (bad input), CLI_FAIL otherwise. */
int cli_report(const struct k8snet_ctx *ctx, int r, const char *what);
/* "k8snet: COMMAND: MESSAGE (see 'k8snet COMMAND --help')"; returns CLI_USAGE. */
int cli_usage(const struct cli_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "k8snet: MESSAGE" on one line and return CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "k8snet: warning: MESSAGE" on standard error; changes no exit status. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A new context bound to the namespace at path (NULL: the current one). */
int cli_ctx_new(const char *netns_path, struct k8snet_ctx **ret);
/* Whole file, or standard input for "-"; NUL-terminated; NULL on error (reported). */
char *cli_read_file(const char *path, size_t *ret_len);
/* Every file argument of call, read whole and given to load(obj, ...); the
 * first failure is reported, naming the file.  CLI_OK, or an exit status. */
int cli_load_args(const struct cli_call *call, struct k8snet_ctx *ctx,
		  int (*load)(void *obj, const char *json, size_t len), void *obj);
/* Print text, adding a final newline when missing; CLI_OK or CLI_FAIL. */
int cli_print_text(const char *text);
/* Print a JSON document (takes it; cJSON *) indented, then a newline. */
int cli_print_json(void *cjson);

/* ---- Addresses and what a namespace holds (cli-net.c) -------------------- */

struct cli_prefix {
	int family;            /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned len;          /* prefix length (32/128 for a bare address) */
};

/* "10.0.0.1/24", "fd00::1/64"; a bare address when want_len is false
 * (then a "/N" is refused).  0 or -1. */
int cli_prefix_parse(const char *s, bool want_len, struct cli_prefix *ret);
/* Whether addr (its address part) lies inside net. */
bool cli_prefix_contains(const struct cli_prefix *net, const struct cli_prefix *addr);
/* The network of p (host bits cleared). */
struct cli_prefix cli_prefix_network(const struct cli_prefix *p);
/* "10.0.0.0/24" (with_len) or "10.0.0.1" into buf of at least 64 bytes. */
const char *cli_prefix_str(const struct cli_prefix *p, bool with_len, char *buf);
const char *cli_family_name(int family);

/* An address configured on a link of the namespace. */
struct cli_link_addr {
	char link[32];
	char kind[32];
	struct cli_prefix prefix;
};
/* Every global address (not loopback, not link-local) of every link in the
 * context's namespace, from k8snet_ctx_describe().  Free *ret with free(). */
int cli_link_addrs(struct k8snet_ctx *ctx, struct cli_link_addr **ret, size_t *ret_n);
/* Whether forwarding is on for a family in the context's namespace:
 * 1 on, 0 off, -1 unknown. */
int cli_forwarding(struct k8snet_ctx *ctx, int family);
/* Warn when forwarding of family is off: WHAT says what that strands
 * ("this pod's IPv6 traffic will stay on the bridge"). */
void cli_warn_forwarding(struct k8snet_ctx *ctx, int family, const char *what);
/* A file under /proc as the context's namespace shows it (/proc/sys/net,
 * /proc/thread-self/net); NULL when it cannot be read. */
char *cli_netns_read(struct k8snet_ctx *ctx, const char *path);

/* ---- The commands (one file per layer) ----------------------------------- */

int cli_version(const struct cli_call *call);
int cli_help(const struct cli_call *call);
int cli_netns_describe(const struct cli_call *call);
int cli_pod_attach(const struct cli_call *call);
int cli_pod_check(const struct cli_call *call);
int cli_pod_detach(const struct cli_call *call);
int cli_bridge_ensure(const struct cli_call *call);
int cli_node_setup(const struct cli_call *call);
int cli_node_peer_add(const struct cli_call *call);
int cli_node_peer_del(const struct cli_call *call);
int cli_ipam_alloc(const struct cli_call *call);
int cli_ipam_release(const struct cli_call *call);
int cli_ipam_list(const struct cli_call *call);
int cli_proxy_sync(const struct cli_call *call);
int cli_proxy_render(const struct cli_call *call);
int cli_policy_check(const struct cli_call *call);
int cli_policy_sync(const struct cli_call *call);
int cli_policy_render(const struct cli_call *call);
int cli_policy_counters(const struct cli_call *call);
int cli_hostport_set(const struct cli_call *call);
int cli_hostport_check(const struct cli_call *call);
int cli_hostport_remove(const struct cli_call *call);
int cli_hostport_gc(const struct cli_call *call);
int cli_hostport_network(const struct cli_call *call);
int cli_dns_validate(const struct cli_call *call);
int cli_dns_resolv_conf(const struct cli_call *call);
int cli_dns_candidates(const struct cli_call *call);
int cli_dns_zone(const struct cli_call *call);
int cli_dns_fqdn(const struct cli_call *call);
int cli_dns_parse(const struct cli_call *call);
int cli_dns_ptr(const struct cli_call *call);
int cli_trace(const struct cli_call *call);
int cli_observe(const struct cli_call *call);

#endif
