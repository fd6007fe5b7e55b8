# forksan — build, test, demo, bench and install.
#
#   make            build build/bin/forksan and build/lib/libforksan.so
#   make deps       install the Debian packages the build needs (when missing)
#   make check      unit tests (cmocka), scenario tests under forksan run,
#                   real programs (make realworld-quick; make realworld for all)
#                   and each fuzz target for a few seconds (make fuzz-check)
#   make fuzz       each fuzz target for FUZZ_SECONDS (600) with libFuzzer
#   make demo       run forksan on the bundled example and print the report
#   make bench      bare vs forksan ratios against the budgets in doc/budgets.md
#   make realworld  real programs (CPython tests, PostgreSQL, Redis, nginx) bare vs under forksan
#   make install PREFIX=/usr/local

PREFIX ?= /usr/local
BUILD  ?= build
CC     ?= cc

VERSION := 0.1.0
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
BASEFLAGS := -std=gnu11 -g -O2 $(WARN) -D_GNU_SOURCE -DFORKSAN_VERSION='"$(VERSION)"'

# Each folder sees only what it builds on (doc/architecture.md):
#   probes -> common <- analyzer -> reports -> common
# common/ holds the contracts both sides share: the trace format, the
# options table, the report model and the rule catalogue.
INC_probes   := -Iprobes -Icommon
INC_common   := -Icommon
INC_reports  := -Ireports -Icommon
INC_analyzer := -Ianalyzer -Icommon -Ireports

# The runtime: position independent, everything hidden except the interposers
# and the public API (probes/fsan.h marks those with FSAN_EXPORT).
RT_CFLAGS := $(BASEFLAGS) $(INC_probes) -flto -fPIC -fvisibility=hidden -fno-omit-frame-pointer -ftls-model=initial-exec
# -nostartfiles: no crtbegin/crtend.  Their C++ and transactional-memory
# support (__cxa_finalize, _ITM_*, __gmon_start__) made four symbol lookups
# at every exec, three of them failing through every loaded object (~2,900
# instructions per exec'd image); the runtime's constructor and destructor
# run from .init_array/.fini_array without them (runtime.c defines the one
# symbol they provided that the runtime uses, __dso_handle).
RT_LDFLAGS := -flto -O2 -shared -nostartfiles -Wl,-z,noseparate-code -Wl,-z,initfirst -Wl,-z,lazy -Wl,--no-undefined
# libgcc's unwinder is linked in (static, PIC) with its symbols hidden, so
# the runtime adds no library to the processes it lives in and never
# replaces the program's own _Unwind_* (C++ exceptions).
RT_LIBS := -Wl,-Bstatic -lgcc_eh -Wl,-Bdynamic -Wl,--exclude-libs,libgcc_eh.a -ldl -pthread

RT_SRCS := probes/runtime.c probes/hooks.c probes/safeio.c common/options.c \
           probes/trace.c probes/stack.c probes/heldlocks.c probes/threads.c \
           probes/locks.c probes/fork.c probes/child.c probes/python.c common/pywalk.c probes/loops.c probes/stdio.c probes/pidcheck.c \
           probes/foreign.c probes/signals.c probes/cleanup.c probes/identity.c probes/safe.c probes/condvars.c
AN_SRCS := analyzer/main.c analyzer/cli_run.c analyzer/tracefile.c common/model.c \
           analyzer/symbolize.c analyzer/dwlib.c analyzer/traceset.c common/options.c analyzer/pipeline.c \
           reports/render_text.c reports/render_json.c reports/jsonw.c common/catalogue.c \
           reports/render_sarif.c reports/render_html.c
# The CPython frame walker: the runtime reads its own frames with it, the
# command another process's (analyzer/pyremote.c finds CPython there).
AN_SRCS += common/pywalk.c analyzer/pyremote.c
AN_SRCS += analyzer/suppress.c analyzer/baseline.c analyzer/supervise.c
AN_SRCS += analyzer/keymap.c analyzer/progress.c analyzer/finding.c analyzer/rules.c analyzer/rules_locks.c analyzer/rules_loops.c \
           analyzer/rules_exit.c analyzer/rules_pidcheck.c analyzer/rules_foreign.c analyzer/rules_remedy.c
# The hang watchdog (forksan run) stops and unwinds a hung child with
# libunwind's remote unwinder: a library of the command only, never loaded
# into the watched program, and loaded by the command (dlopen) only when a
# child hangs.
AN_SRCS += analyzer/watchdog.c analyzer/remote_stack.c analyzer/hang_report.c analyzer/hangfile.c
# forksan lint (issue 17) reads ELF files and disassembles fork children
# with Capstone (analyzer/lint_fork.c says why that disassembler).
AN_SRCS += analyzer/lint.c analyzer/lint_elf.c analyzer/lint_deps.c analyzer/lint_fork.c analyzer/lint_python.c
# The command links no library but libc: libdw/libelf (dwlib.c), libunwind
# (remote_stack.c) and Capstone (lint_fork.c) are loaded on first use, so
# that every start of the command (forksan run, report, --version) does not
# map and relocate them.
AN_LIBS := -pthread

RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/rt/%.o)
AN_OBJS := $(AN_SRCS:%.c=$(BUILD)/an/%.o)

RUNTIME := $(BUILD)/lib/libforksan.so
CLI     := $(BUILD)/bin/forksan

.PHONY: all deps test-deps check unit scenarios demo bench install clean

all: $(RUNTIME) $(CLI)

$(BUILD)/rt/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(RT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/an/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC_$(firstword $(subst /, ,$*))) -MMD -MP -c $< -o $@

$(RUNTIME): $(RT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(RT_LDFLAGS) -o $@ $^ $(RT_LIBS)

$(CLI): $(AN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(AN_LIBS)

-include $(RT_OBJS:.o=.d) $(AN_OBJS:.o=.d)

# The CPython struct layouts the frame walker (common/pywalk.c) reads are
# checked in (common/pyoffsets/py3NN.h): a build needs no CPython headers.
# `make pyoffsets` regenerates them from every CPython header set found
# here (libpython3.N-dev, pyenv builds); `make pyoffsets-check` compares.
.PHONY: pyoffsets pyoffsets-check
pyoffsets:
	@CC=$(CC) sh common/pyoffsets/generate.sh $(BUILD)
pyoffsets-check:
	@CC=$(CC) sh common/pyoffsets/generate.sh --check $(BUILD)
check: pyoffsets-check

# The built-in suppressions (analyzer/builtin.supp) are compiled into the
# command as one C string literal, one source line per file line.
SUPP_GEN := $(BUILD)/gen/builtin_supp.h
$(SUPP_GEN): analyzer/builtin.supp
	@mkdir -p $(dir $@)
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@.tmp
	@mv $@.tmp $@
$(BUILD)/an/analyzer/suppress.o: $(SUPP_GEN)
$(BUILD)/an/analyzer/suppress.o: BASEFLAGS += -I$(BUILD)/gen

# ---- dependencies --------------------------------------------------------
# Installs what the build and the tests need, only when something is missing.
deps:
	@sh tests/install-deps.sh build

test-deps:
	@sh tests/install-deps.sh all
	@sh tests/install-deps.sh realworld

# ---- tests ---------------------------------------------------------------
include tests/tests.mk

check: test-deps all unit scenarios man-check sarif-check html-check realworld-quick fuzz-check

# ---- demo ----------------------------------------------------------------
$(BUILD)/examples/%: examples/%.c
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -pthread -o $@ $<

demo: deps
	@$(MAKE) --no-print-directory all $(BUILD)/examples/demo
	@echo "== forksan run -- $(BUILD)/examples/demo"
	@$(CLI) run -- $(BUILD)/examples/demo; status=$$?; \
	echo "== forksan exited with status $$status (66 = findings at error level: the demo's child deadlock and stranded loop were found; the dropped session cache is a warning)"; \
	test $$status -eq 66

# ---- bench ---------------------------------------------------------------
# Figures, never a failure: bench/bench.py prints each against its budget
# (doc/budgets.md) and writes $(BUILD)/bench.json.  BENCH_ROUNDS=N (default 7)
# and BENCH_ANALYZER_MAX=10000 (skip the 100,000-children size) go through
# the environment.
BENCH_PROGS := $(BUILD)/bench/lockloop $(BUILD)/bench/forkloop $(BUILD)/bench/writeloop

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(WARN) -pthread -o $@ $<

bench: all $(BENCH_PROGS)
	@/usr/bin/python3 bench/bench.py $(BUILD)

# ---- install -------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	           $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	           $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/forksan
	install -m 0755 $(RUNTIME) $(DESTDIR)$(PREFIX)/lib/libforksan.so
	install -m 0644 probes/forksan.h $(DESTDIR)$(PREFIX)/include/forksan.h
	install -m 0644 man/forksan.1 $(DESTDIR)$(PREFIX)/share/man/man1/forksan.1
	install -m 0644 man/forksan-trace.5 $(DESTDIR)$(PREFIX)/share/man/man5/forksan-trace.5
	install -m 0644 man/forksan.7 $(DESTDIR)$(PREFIX)/share/man/man7/forksan.7
	install -D -m 0644 man/forksan.3 $(DESTDIR)$(PREFIX)/share/man/man3/forksan.3

clean:
	rm -rf $(BUILD)
include man/man.mk
include tests/sarif/sarif.mk
include tests/html/html.mk
include tests/realworld/realworld.mk
include tests/fuzz/fuzz.mk
