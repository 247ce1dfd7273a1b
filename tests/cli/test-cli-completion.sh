#!/bin/sh
# bash completion for k8snet: the installed script, loaded in a bash
# subshell (alone, and with bash-completion's own helpers when installed),
# completes commands, options, option values and file names; and
# `make install` puts it in bash-completion's directory.
set -u
command -v bash >/dev/null || { echo "SKIP: no bash"; exit 77; }
script="$top_srcdir/examples/bash-completion/k8snet"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/cluster.json" "$tmp/state.file"
status=0

# run_cases [bash-completion]: the cases below, one "WORDS => WANT" a line;
# WANT is the candidates, sorted, space-separated.
run_cases() {
	PATH="$top_builddir/examples:$PATH" TMPD="$tmp" BC="${1:-}" SCRIPT="$script" \
		bash --norc --noprofile -c '
	[ -n "$BC" ] && . "$BC"
	. "$SCRIPT"
	fail=0
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		words=${line%% =>*}; want=${line#*=> }
		words=${words//\$TMPD/$TMPD}; want=${want//\$TMPD/$TMPD}
		read -r -a COMP_WORDS <<<"$words"
		case $words in *" ") COMP_WORDS+=("") ;; esac
		COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
		COMP_LINE=$words; COMP_POINT=${#COMP_LINE}
		COMPREPLY=()
		_k8snet k8snet "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		got=$(printf "%s\n" "${COMPREPLY[@]}" | sed "/^$/d" | sort | tr "\n" " ")
		got=${got% }
		if [ "$got" = "$want" ]; then
			echo "ok: [$words] -> $got"
		else
			echo "FAIL: [$words] -> [$got], want [$want]"; fail=1
		fi
	done
	exit $fail
	' <<'CASES'
k8snet po => pod policy
k8snet pod => pod
k8snet poli => policy
k8snet pod att => attach
k8snet pod  => attach check detach
k8snet node peer a => add
k8snet help po => pod policy
k8snet help pod at => attach
k8snet pod attach --br => --bridge
k8snet pod attach --bridge cni0 --br => 
k8snet pod attach --address 10.0.0.2/24 --addr => --address
k8snet node peer add --mode  => host-gw vxlan
k8snet version -o j => json
k8snet version --output  => json text
k8snet dns validate label- => label-key label-value
k8snet ipam alloc --state $TMPD/sta => $TMPD/state.file
k8snet proxy sync --node-name n1 $TMPD/cl => $TMPD/cluster.json
k8snet proxy sync --nodeport-r => --nodeport-range
k8snet pod attach --in-netns /x --node => 
k8snet frobnicate => 
CASES
}

run_cases || status=1
bc=/usr/share/bash-completion/bash_completion
if [ -f "$bc" ]; then
	echo "== with bash-completion's helpers"
	run_cases "$bc" || status=1
else
	echo "(bash-completion is not installed: the script alone was tested)"
fi

# `make install` puts the script where bash-completion looks for it.
if command -v make >/dev/null && [ -f "$top_builddir/Makefile" ]; then
	make -s -C "$top_builddir" install-dist_bashcompletionDATA DESTDIR="$tmp/dest" \
		>"$tmp/make.log" 2>&1 || { echo "FAIL: make install: $(cat "$tmp/make.log")"; status=1; }
	installed=$(find "$tmp/dest" -type f -name k8snet)
	case $installed in
	*/bash-completion/completions/k8snet)
		cmp -s "$installed" "$script" && echo "ok: make install put it in ${installed#"$tmp/dest"}" ||
			{ echo "FAIL: $installed is not the script"; status=1; } ;;
	*) echo "FAIL: make install put it at '$installed'"; status=1 ;;
	esac
fi
[ $status = 0 ] && echo "PASS: bash completion"
exit $status
