lib_libk8snet_internal_la_SOURCES += \
	lib/json/json.h \
	lib/json/json.c

check_PROGRAMS += tests/unit/test-json
TESTS += tests/unit/test-json
tests_unit_test_json_SOURCES = tests/unit/test-json.c
tests_unit_test_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_json_LDADD = $(UNIT_LDADD)

EXTRA_DIST += tests/fuzz/fuzz-json.c tests/fuzz/corpus/json
FUZZ_TARGETS += json
