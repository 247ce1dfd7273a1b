# Whole-library checks: exported symbols, man pages, headers, ABI, Python,
# valgrind over the unit tests, the JSON fuzzer.  They run after the unit and
# netns tests listed by each layer.
TESTS += \
	tests/check-symbols.sh \
	tests/check-globals.sh \
	tests/check-man.sh \
	tests/check-headers.sh \
	tests/check-abi.sh \
	tests/python/run.sh \
	tests/python/test-install.sh \
	tests/valgrind-unit.sh \
	tests/fuzz/run.sh \
	tests/sanitize/run.sh \
	tests/apiserver/test-units.sh \
	tests/apiserver/test-protocol.sh \
	tests/apiserver/test-kubectl.sh

EXTRA_DIST += \
	tests/check-symbols.sh \
	tests/check-globals.sh \
	tests/check-man.sh \
	tests/check-headers.sh \
	tests/check-abi.sh \
	tests/python/run.sh \
	tests/python \
	tests/valgrind-unit.sh \
	tests/fuzz/run.sh \
	tests/netns/lib.sh \
	$(APISERVER_FILES) \
	bindings/python

# The test API server (k8snet-agent's tests and the demo talk to it).
APISERVER_FILES = \
	tests/apiserver/README.md \
	tests/apiserver/apiserver.py \
	tests/apiserver/apimodel.py \
	tests/apiserver/apistore.py \
	tests/apiserver/apipatch.py \
	tests/apiserver/labelsel.py \
	tests/apiserver/k8sclient.py \
	tests/apiserver/gen-objects.py \
	tests/apiserver/bench-apiserver.py \
	tests/apiserver/test_units.py \
	tests/apiserver/test_protocol.py \
	tests/apiserver/test-units.sh \
	tests/apiserver/test-protocol.sh \
	tests/apiserver/test-kubectl.sh

AM_TESTS_ENVIRONMENT += FUZZ_TARGETS='$(FUZZ_TARGETS)'; export FUZZ_TARGETS;

EXTRA_DIST += tests/sanitize/run.sh tests/sanitize/lib.sh tests/sanitize/test-threads.c

clean-local:
	rm -rf tests/fuzz/build tests/sanitize/build tests/python/__pycache__ tests/apiserver/__pycache__

# The Debian packages: built, checked by lintian, unpacked into a temporary
# root and used from there.  Minutes of building: `make check` skips it,
# `make check-long` runs it.
TESTS += tests/check-debian.sh
LONG_TESTS += tests/check-debian.sh
EXTRA_DIST += tests/check-debian.sh debian
