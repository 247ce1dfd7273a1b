#!/bin/sh
# The Debian packages build (dpkg-buildpackage -us -uc -b on a copy of the
# source), lintian finds no errors in them, and they work: unpacked into a
# temporary root with dpkg-deb -x (never into this machine's /usr, so no
# later test can pick up an installed copy), the README's C example builds
# against that root with pkg-config and runs on the unpacked library, and so
# does the README's Python example with the unpacked python3-k8snet.
#
# A whole build takes minutes: `make check` skips it, `make check-long`
# (K8SNET_LONG=1) runs it.  K8ST_TAG names the test's network namespace
# (k8st-TAG-PID-0, default tag "deb").
set -eu
if [ "${K8SNET_LONG:-}" != 1 ]; then
	echo "SKIP: builds the Debian packages, minutes: runs in make check-long"; exit 77
fi
for tool in dpkg-buildpackage dh dpkg-deb pkg-config; do
	command -v $tool >/dev/null || { echo "SKIP: no $tool (./dev.sh deps)"; exit 77; }
done
. "$top_srcdir/tests/netns/lib.sh"
require_root

tmp=$(mktemp -d /tmp/k8st-debian.XXXXXX)
cleanup() { _k8st_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP
fail() { echo "FAIL: $*"; exit 1; }

# 1. A copy of the source: the files git knows (committed or not) or, in a
# tarball, everything; dpkg-buildpackage runs there, never in top_srcdir.
mkdir "$tmp/src"
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top_srcdir" ls-files --cached --others --exclude-standard |
		while IFS= read -r f; do [ -e "$top_srcdir/$f" ] && printf '%s\n' "$f"; done |
		tar -C "$top_srcdir" -cf - -T - | tar -C "$tmp/src" -xf -
else
	tar -C "$top_srcdir" --exclude=./debian/tmp -cf - . | tar -C "$tmp/src" -xf -
fi

# The package's version is the release in configure.ac plus a Debian part.
release=$(sed -n 's/^m4_define(\[k8snet_\(major\|minor\|patch\)\], \[\([0-9]*\)\]).*/\2/p' \
	"$top_srcdir/configure.ac" | paste -sd.)
debversion=$(cd "$tmp/src" && dpkg-parsechangelog -S Version)
case "$debversion" in
"$release"-*) ;;
*) fail "debian/changelog says $debversion, configure.ac says $release (dch -v $release-1)" ;;
esac

# 2. Build.
echo "# dpkg-buildpackage -us -uc -b (log: build.log)"
start=$(date +%s)
# A clean environment: none of this make's MAKEFLAGS (TESTS=..., which the
# package's own make check would inherit and run this test again inside),
# test variables or a PATH with another python3 first.
if ! (cd "$tmp/src" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$tmp" LANG=C.UTF-8 \
	DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	tail -60 "$tmp/build.log"
	fail "dpkg-buildpackage"
fi
echo "# built in $(($(date +%s) - start)) s:"
(cd "$tmp" && ls -1 ./*.deb)
for p in libk8snet1 libk8snet-dev k8snet python3-k8snet; do
	ls "$tmp/${p}_"*.deb >/dev/null 2>&1 || fail "no $p package"
done

# 3. lintian: no errors (warnings are listed, not fatal).
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$tmp"/*.changes >"$tmp/lintian.log" 2>&1 || true
	echo "# lintian: $(grep -c '^E:' "$tmp/lintian.log" || true) errors," \
		"$(grep -c '^W:' "$tmp/lintian.log" || true) warnings"
	sed 's/^/#   /' "$tmp/lintian.log"
	grep -q '^E:' "$tmp/lintian.log" && fail "lintian reports errors (above)"
else
	echo "# no lintian: not checked"
fi

# 4. The packages unpacked into a temporary root; what each must hold.
root="$tmp/root"
for deb in "$tmp"/*.deb; do
	case "$deb" in *-dbgsym_*) continue ;; esac
	dpkg-deb -x "$deb" "$root"
done
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
libdir="$root/usr/lib/$ma"
for f in "$libdir/libk8snet.so.1" "$libdir/libk8snet.so" "$libdir/pkgconfig/libk8snet.pc" \
	"$root/usr/include/k8snet/k8snet.h" "$root/usr/bin/k8snet" "$root/usr/lib/cni/k8snet-cni" \
	"$root/usr/share/man/man3/k8snet_ctx_new.3.gz" "$root/usr/share/man/man7/libk8snet.7.gz" \
	"$root/usr/share/man/man1/k8snet.1.gz" "$root/usr/lib/python3/dist-packages/k8snet/__init__.py" \
	"$root/usr/lib/python3/dist-packages/k8snet/py.typed"; do
	[ -e "$f" ] || fail "${f#"$root"} is in no package"
done
dpkg-deb -I "$tmp"/libk8snet1_*.deb symbols | grep -q '^libk8snet.so.1 libk8snet1' ||
	fail "libk8snet1 has no symbols file"
[ -e "$libdir/libk8snet.la" ] && fail "libk8snet.la is shipped"

# Only the unpacked library from here on: not the build tree's.
unset K8SNET_LIBRARY
export LD_LIBRARY_PATH="$libdir"
netns_add "${K8ST_TAG:-deb}"

# 5. The README's C example, built with the root's pkg-config file.
awk '/^## A minimal C program/ { on = 1 } on && /^```c/ { code = 1; next }
     code && /^```/ { exit } code' "$top_srcdir/README.md" >"$tmp/prog.c"
[ -s "$tmp/prog.c" ] || fail "no C example in README.md"
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags libk8snet) libs=$(pkg-config --libs libk8snet)
case "$cflags $libs" in
*"$root"/usr/include*"$root"/usr/lib/*) ;;
*) fail "pkg-config does not point into the root: $cflags $libs" ;;
esac
# shellcheck disable=SC2086
${CC:-cc} -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" $cflags $libs || fail "C example does not build"
ldd "$tmp/prog" | grep -q "libk8snet.so.1 => $libdir/" || fail "C example does not use the root's library"
"$tmp/prog" "/run/netns/$NETNS" >"$tmp/prog.out" || fail "C example failed"
grep -q '"links"' "$tmp/prog.out" || fail "C example printed no links: $(cat "$tmp/prog.out")"
echo "# C example: built with pkg-config from the root, describes $NETNS"

# 6. The README's Python example, from the root's python3-k8snet.
awk '/^## A minimal Python program/ { on = 1 } on && /^```python/ { code = 1; next }
     code && /^```/ { exit } code' "$top_srcdir/README.md" |
	sed "s,/run/netns/node1,/run/netns/$NETNS," >"$tmp/prog.py"
[ -s "$tmp/prog.py" ] || fail "no Python example in README.md"
cat >>"$tmp/prog.py" <<EOF
import k8snet._lib
assert k8snet.__file__.startswith("$root/"), k8snet.__file__
maps = open("/proc/self/maps").read()
assert "$libdir/libk8snet.so.1" in maps, "not the root's libk8snet.so.1"
EOF
(cd "$tmp" && PYTHONPATH="$root/usr/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
	"${PYTHON3:-python3}" prog.py) >"$tmp/prog-py.out" || fail "Python example failed"
grep -q "'lo'" "$tmp/prog-py.out" || fail "Python example printed no lo: $(cat "$tmp/prog-py.out")"
echo "# Python example: the root's k8snet and libk8snet.so.1, describes $NETNS"

# 7. The tools run from the root.
"$root/usr/bin/k8snet" --help >/dev/null || fail "k8snet --help"
CNI_COMMAND=VERSION "$root/usr/lib/cni/k8snet-cni" </dev/null | grep -q cniVersion ||
	fail "k8snet-cni VERSION"
echo "PASS: packages build, lintian has no errors, the examples run from the unpacked root"
