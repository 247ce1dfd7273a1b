# Whole-library checks: exported symbols, man pages, headers, ABI, Python,
# valgrind over the unit tests, the JSON fuzzer.  They run after the unit and
# netns tests listed by each layer.
TESTS += \
	tests/check-symbols.sh \
	tests/check-man.sh \
	tests/check-headers.sh \
	tests/check-abi.sh \
	tests/python/run.sh \
	tests/valgrind-unit.sh \
	tests/fuzz/run.sh

EXTRA_DIST += \
	tests/check-symbols.sh \
	tests/check-man.sh \
	tests/check-headers.sh \
	tests/check-abi.sh \
	tests/python/run.sh \
	tests/python \
	tests/valgrind-unit.sh \
	tests/fuzz/run.sh \
	tests/netns/lib.sh \
	bindings/python

AM_TESTS_ENVIRONMENT += FUZZ_TARGETS='$(FUZZ_TARGETS)'; export FUZZ_TARGETS;

clean-local:
	rm -rf tests/fuzz/build tests/python/__pycache__
