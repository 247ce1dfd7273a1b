#!/bin/sh
# The Python package as users install it, away from the source tree:
#  - pip (offline, with the system's setuptools: --no-build-isolation) into a
#    venv, then `import k8snet` finds libk8snet.so.1 the way an installed
#    library is found (here LD_LIBRARY_PATH at the build tree's .libs, with
#    K8SNET_LIBRARY unset), and a call works;
#  - a copy of libk8snet.so.1 beside the installed package is preferred;
#  - `make install` installs every module of bindings/python/k8snet and
#    py.typed, and pyproject.toml's version is configure.ac's.
set -eu
# A Python that builds offline: setuptools and wheel (Debian's
# python3-setuptools, python3-wheel), venv with pip (python3-venv).
py=""
for candidate in "${PYTHON3:-python3}" /usr/bin/python3; do
	if "$candidate" -c 'import setuptools, wheel, venv, ensurepip' 2>/dev/null; then
		py=$candidate; break
	fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with setuptools, wheel and venv (./dev.sh deps)"; exit 77; }
src="$top_srcdir/bindings/python"
libs="$top_builddir/lib/.libs"
tmp=$(mktemp -d /tmp/k8st-pyinstall.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset K8SNET_LIBRARY PYTHONPATH
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1

# 1. pip into a venv.  --system-site-packages: the system's setuptools
# builds it; the build happens in a copy (pip may write build/ and
# *.egg-info next to pyproject.toml).
cp -r "$src" "$tmp/src"
"$py" -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --no-build-isolation "$tmp/src" >"$tmp/pip.log" 2>&1 ||
	{ cat "$tmp/pip.log"; fail "pip install"; }
site=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
[ -e "$site/k8snet/py.typed" ] || fail "pip did not install py.typed"
for f in "$src"/k8snet/*.py; do
	[ -e "$site/k8snet/${f##*/}" ] || fail "pip did not install ${f##*/}"
done

cd "$tmp"  # not the source tree: the installed package or nothing
probe='import k8snet, k8snet.ipam, os
assert k8snet.__file__.startswith(os.environ["SITE"]), k8snet.__file__
with k8snet.Context() as ctx, k8snet.ipam.Pool(ctx, "10.7.0.0/30") as pool:
    print(k8snet.version(), pool.alloc("c1"), next(pool.iter_allocations())[1])
print([l for l in open("/proc/self/maps") if "libk8snet.so" in l][0].split()[-1])'
out=$(SITE="$site" LD_LIBRARY_PATH="$libs" "$tmp/venv/bin/python" -c "$probe") ||
	fail "import k8snet from the venv"
echo "# venv: $out" | tr '\n' ' '; echo
echo "$out" | grep -q "10.7.0.1/30 c1" || fail "unexpected: $out"
echo "$out" | grep -q "^$(cd "$libs" && pwd -P)/libk8snet.so" || fail "not the library in LD_LIBRARY_PATH"

# Without a library anywhere: ImportError saying what to install.
if ! ldconfig -p | grep -q 'libk8snet\.so\.0 '; then
	if LD_LIBRARY_PATH=/nonexistent "$tmp/venv/bin/python" -c 'import k8snet' >"$tmp/err" 2>&1; then
		fail "import k8snet worked with no library"
	fi
	grep -q "ImportError.*install libk8snet1" "$tmp/err" ||
		fail "no ImportError with a hint: $(cat "$tmp/err")"
fi

# 2. A libk8snet.so.1 beside the package wins over the system's.
cp "$libs/libk8snet.so.1" "$site/k8snet/"
out=$(SITE="$site" LD_LIBRARY_PATH=/nonexistent "$tmp/venv/bin/python" -c "$probe") ||
	fail "import k8snet with the library beside the package"
echo "$out" | grep -q "^$site/k8snet/libk8snet.so.1" || fail "not the library beside the package: $out"
echo "# beside the package: ok"

# 3. make install installs the package (only its files, into DESTDIR).
if [ -f "$top_builddir/Makefile" ] && grep -q '^install-k8snetpyPYTHON:' "$top_builddir/Makefile"; then
	make -s -C "$top_builddir" install-k8snetpyPYTHON install-dist_k8snetpyDATA \
		DESTDIR="$tmp/dest" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make install"; }
	inst=$(find "$tmp/dest" -type d -name k8snet | head -1)
	[ -n "$inst" ] || fail "make install installed no k8snet directory"
	for f in "$src"/k8snet/*.py "$src"/k8snet/py.typed; do
		[ -e "$inst/${f##*/}" ] || fail "make install leaves out ${f##*/} (bindings/python/local.mk)"
	done
	echo "# make install: ${inst#"$tmp/dest"}"
else
	fail "make install does not install the Python package"
fi

# 4. One version number.
release=$(sed -n 's/^m4_define(\[k8snet_\(major\|minor\|patch\)\], \[\([0-9]*\)\]).*/\2/p' \
	"$top_srcdir/configure.ac" | paste -sd.)
grep -q "^version = \"$release\"" "$src/pyproject.toml" ||
	fail "pyproject.toml's version is not configure.ac's $release"
echo "PASS: pip install into a venv, library beside the package, make install, version $release"
