# tests/tests.mk — unit tests (cmocka) and scenario tests; included by the
# top-level Makefile.  `make unit` builds and runs every tests/unit/test_*.c
# (cmocka prints its summary lines); `make scenarios` runs the scenario
# programs under the real `forksan run` and checks their findings.

TEST_CFLAGS := $(BASEFLAGS) -Iprobes -Icommon -Ianalyzer -Ireports -O0 -fno-omit-frame-pointer
TEST_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
TB := $(BUILD)/tests

# Each unit test: its sources (besides the test file) and libraries.
test_options_SRCS   := common/options.c
test_tracefile_SRCS := analyzer/tracefile.c probes/trace.c probes/safeio.c common/options.c
test_heldlocks_SRCS := probes/heldlocks.c
test_symbolize_SRCS := analyzer/symbolize.c analyzer/dwlib.c
# The libraries dwlib.c loads are linked too: LeakSanitizer (GCC 12) crashes
# walking the thread-local storage of a library loaded with dlopen.
test_symbolize_LIBS := -ldw -lelf
test_reports_SRCS   := reports/render_text.c reports/render_json.c reports/jsonw.c common/catalogue.c common/model.c
test_sarif_SRCS     := reports/render_sarif.c reports/jsonw.c common/catalogue.c common/model.c
test_rules_SRCS     := analyzer/keymap.c analyzer/progress.c analyzer/finding.c analyzer/rules.c analyzer/rules_locks.c analyzer/rules_loops.c \
                       analyzer/rules_exit.c analyzer/rules_pidcheck.c analyzer/rules_foreign.c analyzer/rules_remedy.c \
                       analyzer/traceset.c analyzer/tracefile.c analyzer/symbolize.c analyzer/dwlib.c common/model.c
# ... and the renderers, to see Python frames come out as such.
test_rules_SRCS     += reports/render_text.c reports/render_json.c reports/jsonw.c common/catalogue.c
test_rules_SRCS     += reports/render_sarif.c reports/render_html.c
test_rules_LIBS     := -ldw -lelf
test_suppress_SRCS  := analyzer/suppress.c common/catalogue.c common/model.c
test_baseline_SRCS  := analyzer/baseline.c reports/render_json.c reports/jsonw.c common/model.c
test_supervise_SRCS := analyzer/supervise.c common/catalogue.c common/model.c
test_pywalk_SRCS    := common/pywalk.c analyzer/pyremote.c
test_pywalk_LIBS    := -lelf

# test_hooks runs itself under the runtime, with another preloaded
# interposer after it and a library whose constructor holds the loader's lock.
test_hooks_LIBS     := -ldl
$(TB)/test_hooks: $(TB)/libhooks_next.so $(TB)/libhooks_blocker.so
$(TB)/libhooks_next.so: tests/unit/hooks_next.c tests/unit/hooks_next.map
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -Wl,--version-script=tests/unit/hooks_next.map -o $@ $< -ldl
$(TB)/libhooks_blocker.so: tests/unit/hooks_blocker.c
	@mkdir -p $(dir $@)
	$(CC) -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $<

# Analyzer-side tests also run under AddressSanitizer and UBSan;
# runtime-side tests link runtime code that must not be instrumented.
SAN_TESTS := test_options test_tracefile test_symbolize test_reports test_rules test_sarif
SAN_TESTS += test_suppress test_baseline test_supervise test_pywalk
# suppress.c includes the built-in list, generated from analyzer/builtin.supp.
$(TB)/test_suppress: TEST_CFLAGS += -I$(BUILD)/gen
$(TB)/test_suppress: $(SUPP_GEN)
UNIT_TESTS := $(sort $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)))

$(TB)/%: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(if $(filter $*,$(SAN_TESTS)),$(TEST_SAN)) -o $@ $< $($*_SRCS) -lcmocka $($*_LIBS) -pthread

$(foreach t,$(UNIT_TESTS),$(eval $(TB)/$(t): $($(t)_SRCS) $(wildcard probes/*.h analyzer/*.h analyzer/*.def reports/*.h common/*.h common/*.def)))

unit: $(addprefix $(TB)/,$(UNIT_TESTS)) $(RUNTIME)
	@fail=0; for t in $(UNIT_TESTS); do \
	    echo "== unit: $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 $(TB)/$$t || fail=1; \
	done; \
	echo "== unit: exported symbols of the runtime"; \
	sh tests/unit/exports.sh $(RUNTIME) probes/hooks.h || fail=1; \
	exit $$fail

SCEN_C := $(wildcard tests/scenarios/*.c)
SCEN_BINS := $(patsubst tests/scenarios/%.c,$(BUILD)/scenarios/%,$(SCEN_C))

# Scenario programs built on an event-loop library link it (pattern-specific
# SCEN_LIBS: loop_uv_* against libuv, loop_event_* against libevent).
$(BUILD)/scenarios/loop_uv_%: SCEN_LIBS += -luv
$(BUILD)/scenarios/loop_event_%: SCEN_LIBS += -levent
$(BUILD)/scenarios/jemalloc_%: SCEN_LIBS += -l:libjemalloc.so.2

$(BUILD)/scenarios/%: tests/scenarios/%.c tests/scenarios/common.h
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -fno-omit-frame-pointer -pthread -rdynamic -Wall -Wextra -Werror -o $@ $< $(SCEN_LIBS)

scenarios: all $(SCEN_BINS)
	@fail=0; \
	python3 tests/scenarios/run.py --build $(BUILD) || fail=1; \
	echo "== cli: the forksan command"; \
	python3 tests/cli/run_cli.py --build $(BUILD) || fail=1; \
	exit $$fail

# What the runtime adds to every exec'd image's start-up, in instructions
# (callgrind on /bin/true; deterministic, so asserted): part of make check.
.PHONY: startup-cost
startup-cost: all
	@echo "== startup cost: instructions the runtime adds to an exec'd image"
	@sh tests/unit/startup_cost.sh $(RUNTIME) $(CLI)
check: startup-cost

# The lock path's cost, as counts (no timing): the system calls the Python
# lock path makes, and the instructions an uncontended mutex pair costs
# (tests/perf/lockpath_*.py; each skips, saying so, without strace or valgrind).
.PHONY: lockpath-check
lockpath-check: all
	@fail=0; \
	echo "== lockpath: system calls of the Python lock path"; \
	python3 tests/perf/lockpath_syscalls.py --build $(BUILD) || fail=1; \
	echo "== lockpath: instructions per uncontended mutex pair"; \
	python3 tests/perf/lockpath_instructions.py --build $(BUILD) || fail=1; \
	exit $$fail
check: lockpath-check

# forksan lint on programs built by the test and on broken files
# (tests/lint/run_lint.py): findings, clean controls, bad input, SARIF.
.PHONY: lint-check
lint-check: all
	@echo "== lint: forksan lint on built programs and bad input"
	@python3 tests/lint/run_lint.py --build $(BUILD)
check: lint-check
