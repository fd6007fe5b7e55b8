# tests/fuzz/fuzz.mk — fuzz targets (libFuzzer, clang) for the parsers of
# untrusted input: trace files with the rules on top, FORKSAN_OPTIONS,
# suppression files and baselines; included by the top-level Makefile.
#
#   make fuzz          build every target into $(BUILD)/fuzz/ and fuzz each
#                      for FUZZ_SECONDS (600); FUZZ_TARGETS=trace picks some;
#                      FUZZ_MERGE=1 merges the new inputs into the committed
#                      corpus (tests/fuzz/corpus/TARGET/)
#   make fuzz-check    (part of make check) every committed input once, then
#                      FUZZ_CHECK_SECONDS (5) of fuzzing per target
#
# New inputs go to $(BUILD)/fuzz/corpus/, crashing ones to
# $(BUILD)/fuzz/crashes/TARGET-*; either command fails when a target crashed,
# leaked or tripped UBSan.  Each target compiles the sources it needs
# itself, instrumented; the trace target links a stub symbolizer
# (stub_symbolize.c) instead of libdw.

FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 5
FUZZ_ALL           := trace options suppress baseline
FUZZ_TARGETS       ?= $(FUZZ_ALL)
FB := $(BUILD)/fuzz
FUZZ_CFLAGS := $(BASEFLAGS) -Icommon -Ianalyzer -Ireports -I$(BUILD)/gen -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all

fuzz_trace_SRCS    := tests/fuzz/stub_symbolize.c analyzer/tracefile.c analyzer/traceset.c \
                      analyzer/keymap.c analyzer/progress.c analyzer/finding.c analyzer/rules.c analyzer/rules_locks.c analyzer/rules_loops.c \
                      analyzer/rules_exit.c analyzer/rules_pidcheck.c analyzer/rules_foreign.c analyzer/rules_remedy.c \
                      analyzer/suppress.c common/model.c common/catalogue.c
fuzz_options_SRCS  := common/options.c
fuzz_suppress_SRCS := analyzer/suppress.c common/model.c common/catalogue.c
fuzz_baseline_SRCS := analyzer/baseline.c common/model.c

.PHONY: fuzz fuzz-check fuzz-tools

# clang with libFuzzer and the sanitizers' runtimes, or a clear error.
fuzz-tools:
	@mkdir -p $(FB)
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' > $(FB)/probe.c
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $(FB)/probe $(FB)/probe.c 2>/dev/null || { \
	    echo "fuzz: '$(FUZZ_CC) -fsanitize=fuzzer,address,undefined' does not work: run 'make test-deps' (it installs clang and libclang-rt-14-dev)" >&2; \
	    exit 1; }

$(FB)/fuzz_%: tests/fuzz/fuzz_%.c | fuzz-tools
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(fuzz_$*_SRCS)

$(foreach t,$(FUZZ_ALL),$(eval $(FB)/fuzz_$(t): $(fuzz_$(t)_SRCS) tests/fuzz/fuzz.h $(wildcard probes/*.h analyzer/*.h analyzer/*.def reports/*.h common/*.h common/*.def)))
$(FB)/fuzz_trace $(FB)/fuzz_suppress: $(SUPP_GEN)

fuzz: $(addprefix $(FB)/fuzz_,$(FUZZ_TARGETS))
	@sh tests/fuzz/run.sh fuzz $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-check: $(addprefix $(FB)/fuzz_,$(FUZZ_TARGETS))
	@echo "== fuzz-check: every committed input once, then $(FUZZ_CHECK_SECONDS) s of fuzzing per target"
	@sh tests/fuzz/run.sh check $(BUILD) $(FUZZ_CHECK_SECONDS) $(FUZZ_TARGETS)
