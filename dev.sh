#!/bin/sh
# The project's two entry points, for root on a fresh Debian 12 machine:
#   ./dev.sh demo   install what is missing, build, run the main demo
#   ./dev.sh test   install what is missing, build, run the whole test suite
# and the pieces they are made of:
#   ./dev.sh deps | build | bench
set -eu
cd "$(dirname "$0")"

# Debian packages: build, test and demo dependencies (the last two lines:
# building debian/ and the Python package, tests/check-debian.sh and
# tests/python/test-install.sh).
PACKAGES="build-essential autoconf automake libtool pkg-config
	libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev libcjson-dev check
	libcurl4-openssl-dev
	mandoc abigail-tools valgrind clang libclang-rt-14-dev lld python3
	iproute2 nftables util-linux procps
	containernetworking-plugins bind9 bind9-utils dnsutils socat time bash-completion
	podman runc busybox-static iputils-ping openssl
	debhelper dh-python dpkg-dev fakeroot lintian python3-all python3-setuptools
	python3-wheel python3-venv python3-pip"

log() { printf '==> %s\n' "$*"; }

deps() {
	missing=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	# kubectl (the demo and the agent's tests): this machine image may have
	# one from google-cloud-cli, which conflicts with Debian's
	# kubernetes-client; install that one only when there is none.
	command -v kubectl >/dev/null || missing="$missing kubernetes-client"
	[ -z "$missing" ] && return 0
	log "installing Debian packages:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "dev.sh: installing packages needs root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

build() {
	[ -x configure ] || { log "autoreconf"; mkdir -p m4; autoreconf -fi >/dev/null; }
	[ -f Makefile ] || { log "configure"; ./configure -q; }
	log "make"
	make -j"$(nproc)" >/dev/null
}

summary() {
	# One closing line for CI: "tests: N passed, N failed, N skipped".
	awk '/^# (PASS|FAIL|XFAIL|XPASS|SKIP|ERROR):/ { n[$2] = $3 }
	     END { printf "tests: %d passed, %d failed, %d skipped\n",
	           n["PASS:"] + n["XFAIL:"], n["FAIL:"] + n["ERROR:"] + n["XPASS:"], n["SKIP:"] }' \
		test-suite.log
}

run_tests() {
	log "make check"
	status=0
	make -j"$(nproc)" check >/dev/null 2>&1 || status=$?
	grep -h -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS):' test-suite.log tests/*.log \
		tests/*/*.log 2>/dev/null | grep -v '^PASS' || true
	if [ $status != 0 ]; then
		log "failures:"
		cat test-suite.log
	else
		log "make distcheck (tarball builds and passes its unit checks)"
		make distcheck TESTS="tests/unit/test-core tests/unit/test-json tests/check-symbols.sh" \
			>distcheck.log 2>&1 || { tail -40 distcheck.log; status=1; }
	fi
	summary
	return $status
}

demo() {
	# The cluster in a box: two nodes, pods through k8snet-cni, Services,
	# cluster DNS and a NetworkPolicy (see examples/demo/cluster-in-a-box.sh).
	top_srcdir="$PWD" top_builddir="$PWD" sh examples/demo/cluster-in-a-box.sh
}

case "${1:-}" in
deps) deps ;;
build) deps; build ;;
test) deps; build; run_tests ;;
demo) deps; build; demo ;;
bench) deps; build; make -j"$(nproc)" bench ;;
*) echo "usage: $0 demo|test|deps|build|bench" >&2; exit 2 ;;
esac
