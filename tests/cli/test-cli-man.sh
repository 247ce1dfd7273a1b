#!/bin/sh
# k8snet(1) and `k8snet --help` say the same thing: both come from the tables
# of examples/cli-table.c.  The page's OPTIONS entries are what
# `k8snet __man options` prints, each command's entry opens with the synopsis
# `k8snet __man commands` prints (every option it takes), every command has
# an entry, and every command with -o json has its shape under OUTPUT.
#
# After changing the tables:  top_builddir=. sh tests/cli/test-cli-man.sh --update
# rewrites those parts of man/man1/k8snet.1 (the prose stays yours).
set -u
k8snet="$top_builddir/examples/k8snet"
page="$top_srcdir/man/man1/k8snet.1"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$k8snet" __man options >"$tmp/options" || { echo "FAIL: k8snet __man options"; exit 1; }
"$k8snet" __man commands >"$tmp/commands" || { echo "FAIL: k8snet __man commands"; exit 1; }
"$k8snet" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z -]*[a-z]\)  .*/\1/p' \
	>"$tmp/listed"
for cmd in $(tr ' ' _ <"$tmp/listed"); do
	c=$(echo "$cmd" | tr _ ' ')
	# shellcheck disable=SC2086
	"$k8snet" $c --help | grep -q '^  -o, --output ' && echo "$c"
done >"$tmp/json"

python3 - "$page" "$tmp/options" "$tmp/commands" "$tmp/listed" "$tmp/json" "${1:-}" <<'PY'
import re, sys
page, options, commands, listed, json_cmds, mode = sys.argv[1:7]
text = open(page).read()
lines = text.split("\n")
fail = []

def command_of(tag):
    # "\fBk8snet pod attach\fR ..." -> "pod attach"
    m = re.match(r"\\fBk8snet (.*?)\\fR", tag)
    return m.group(1).replace("\\-", "-") if m else None

# The synopsis of each command, from the tables.
want = {}
gen = open(commands).read().split("\n")
for i, l in enumerate(gen):
    if l == ".TP":
        want[command_of(gen[i + 1])] = gen[i + 1]

# The page's command entries: a ".TP" line, then the "\fBk8snet ..." tag.
seen = {}
for i, l in enumerate(lines[:-1]):
    c = command_of(lines[i + 1]) if l == ".TP" else None
    if c is None:
        continue
    seen[c] = i + 1
    if c not in want:
        fail.append(f"k8snet(1) has an entry for '{c}', which is no command")
    elif lines[i + 1] != want[c]:
        if mode == "--update":
            lines[i + 1] = want[c]
        else:
            fail.append(f"the synopsis of '{c}' differs from the tables:\n  page: {lines[i + 1]}\n  want: {want[c]}")
for c in want:
    if c not in seen:
        fail.append(f"k8snet(1) has no entry for '{c}' (add '.TP' + `k8snet __man commands`' line)")
for c in open(listed).read().split("\n"):
    if c and c not in want:
        fail.append(f"'{c}' is in k8snet --help but not in k8snet __man commands")

# OPTIONS: from its first ".TP" to the next section.
start = lines.index(".SH OPTIONS")
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(".SH "))
first = next(i for i in range(start, end) if lines[i] == ".TP")
want_opts = open(options).read().rstrip("\n").split("\n")
if lines[first:end] != want_opts:
    if mode == "--update":
        lines[first:end] = want_opts
    else:
        import difflib
        diff = "\n".join(difflib.unified_diff(lines[first:end], want_opts, "k8snet.1", "tables", lineterm=""))
        fail.append("the OPTIONS section differs from the tables:\n" + diff)

# OUTPUT: each command with -o json has its shape there.
start = lines.index(".SH OUTPUT")
end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(".SH "))
documented = {lines[i + 1][3:] for i in range(start, end) if lines[i] == ".TP" and lines[i + 1].startswith(".B ")}
for c in open(json_cmds).read().split("\n"):
    if c and c not in documented:
        fail.append(f"'{c}' takes -o json but OUTPUT does not show its shape")

if mode == "--update":
    open(page, "w").write("\n".join(lines))
    print(f"updated {page}")
    sys.exit(0)
for f in fail:
    print("FAIL:", f)
if fail:
    print("(top_builddir=. sh tests/cli/test-cli-man.sh --update rewrites the generated parts)")
    sys.exit(1)
print(f"PASS: k8snet(1) agrees with the tables: {len(want)} commands, {len(want_opts)} lines of OPTIONS")
PY
