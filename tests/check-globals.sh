#!/bin/sh
# No mutable global or thread-local state in the library: every object in
# a writable data section (.data, .bss) or a thread-local one (.tdata,
# .tbss) of libk8snet.so must be one the C runtime puts there, listed here
# with the reason.  Read-only tables (.rodata, .data.rel.ro) are fine.
set -eu
so="$top_builddir/lib/.libs/libk8snet.so"
allowed="
completed.0	crtstuff.c: whether the library's destructors ran (the runtime's, not ours)
__dso_handle	crtstuff.c: names this library to __cxa_atexit
__TMC_END__	crtstuff.c: end of the transactional-memory clone table (GNU ld places the marker in .data; zero bytes)
"
status=0
objdump -t "$so" | awk '$0 ~ / (\.data|\.bss|\.tdata|\.tbss)[ \t]/ { print $NF }' | sort -u >"${TMPDIR:-/tmp}/k8snet-globals.$$"
while read -r sym; do
	if ! printf '%s\n' "$allowed" | cut -f1 | grep -qx "$sym"; then
		echo "FAIL: $sym is mutable global state in libk8snet.so"
		status=1
	fi
done <"${TMPDIR:-/tmp}/k8snet-globals.$$"
n=$(wc -l <"${TMPDIR:-/tmp}/k8snet-globals.$$")
rm -f "${TMPDIR:-/tmp}/k8snet-globals.$$"
if readelf -lW "$so" | grep -q '^ *TLS '; then
	echo "FAIL: libk8snet.so has a thread-local storage segment"
	status=1
fi
[ $status = 0 ] && echo "PASS: no mutable global or thread-local state ($n runtime objects, all listed)"
exit $status
