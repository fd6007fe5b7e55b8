# man/man.mk — the generated part of the man pages; included by the
# top-level Makefile.
#
#   make man         regenerate man/forksan.1 from man/forksan.1.in, with the
#                    FORKSAN_OPTIONS list expanded from common/options.def,
#                    and man/forksan.7 from man/forksan.7.in, with the rule
#                    descriptions expanded from common/rules.def
#   make man-check   regenerate both into $(BUILD)/man/ and fail if a
#                    committed page differs (it drifted from its table), then
#                    format every page with groff and fail on any warning
#
# man/forksan.1 and man/forksan.7 are committed, so `make install` and
# readers of the repository need no generator; man-check keeps them honest.
# forksan.3 and forksan-trace.5 are written by hand.

MAN_GEN      := $(BUILD)/bin/fsan-gen-options
MAN_OPTIONS  := $(BUILD)/man/options.roff
MAN1_IN      := man/forksan.1.in
MAN1         := man/forksan.1
MAN1_CHECK   := $(BUILD)/man/forksan.1

MAN_RULES_GEN := $(BUILD)/bin/fsan-gen-rules
MAN_RULES     := $(BUILD)/man/rules.roff
MAN7_IN       := man/forksan.7.in
MAN7          := man/forksan.7
MAN7_CHECK    := $(BUILD)/man/forksan.7

# Every page `make install` installs; man-check formats each of them.
MAN_PAGES     := $(MAN1) man/forksan.3 man/forksan-trace.5 $(MAN7)

# `man` is also the name of the directory: phony, or make thinks it is built.
.PHONY: man man-options man-check man-lint

$(MAN_GEN): man/gen-options.c common/options.def common/options.h
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC_common) -o $@ man/gen-options.c

$(MAN_OPTIONS): $(MAN_GEN)
	@mkdir -p $(dir $@)
	$(MAN_GEN) > $@.tmp
	@mv $@.tmp $@

# $(call man1_render,OUTPUT): the template with @VERSION@ filled in and the
# @FORKSAN_OPTIONS@ line (which must appear exactly once) replaced by the list.
define man1_render
	@n=$$(grep -c '^@FORKSAN_OPTIONS@$$' $(MAN1_IN)); if [ "$$n" != 1 ]; then \
	    echo "man: $(MAN1_IN) must contain the line @FORKSAN_OPTIONS@ exactly once (found $$n)" >&2; exit 1; fi
	@mkdir -p $(dir $(1))
	sed -e 's/@VERSION@/$(VERSION)/g' \
	    -e '/^@FORKSAN_OPTIONS@$$/{r $(MAN_OPTIONS)' -e 'd' -e '}' $(MAN1_IN) > $(1).tmp
	@mv $(1).tmp $(1)
endef

$(MAN1): $(MAN1_IN) $(MAN_OPTIONS) man/man.mk Makefile
	$(call man1_render,$@)

# forksan(7): the same steps for the rule descriptions of common/rules.def.
$(MAN_RULES_GEN): man/gen-rules.c common/rules.def common/catalogue.h common/model.h
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) $(INC_common) -o $@ man/gen-rules.c

$(MAN_RULES): $(MAN_RULES_GEN)
	@mkdir -p $(dir $@)
	$(MAN_RULES_GEN) > $@.tmp
	@mv $@.tmp $@

# $(call man7_render,OUTPUT): the template with @VERSION@ filled in and the
# @FORKSAN_RULES@ line (which must appear exactly once) replaced by the rules.
define man7_render
	@n=$$(grep -c '^@FORKSAN_RULES@$$' $(MAN7_IN)); if [ "$$n" != 1 ]; then \
	    echo "man: $(MAN7_IN) must contain the line @FORKSAN_RULES@ exactly once (found $$n)" >&2; exit 1; fi
	@mkdir -p $(dir $(1))
	sed -e 's/@VERSION@/$(VERSION)/g' \
	    -e '/^@FORKSAN_RULES@$$/{r $(MAN_RULES)' -e 'd' -e '}' $(MAN7_IN) > $(1).tmp
	@mv $(1).tmp $(1)
endef

$(MAN7): $(MAN7_IN) $(MAN_RULES) man/man.mk Makefile
	$(call man7_render,$@)

man: $(MAN1) $(MAN7)

# The name options.def's header comment uses for the same thing.
man-options: man

man-check: $(MAN_OPTIONS) $(MAN_RULES)
	$(call man1_render,$(MAN1_CHECK))
	@if [ ! -f $(MAN1) ]; then \
	    echo "man-check: $(MAN1) is missing; run 'make man' and commit it" >&2; exit 1; fi
	@if ! cmp -s $(MAN1_CHECK) $(MAN1); then \
	    echo "man-check: $(MAN1) is out of date with $(MAN1_IN) or common/options.def:" >&2; \
	    diff -u $(MAN1) $(MAN1_CHECK) | head -n 40 >&2; \
	    echo "man-check: run 'make man' and commit $(MAN1)" >&2; exit 1; fi
	@echo "man-check: $(MAN1) matches $(MAN1_IN) and common/options.def"
	$(call man7_render,$(MAN7_CHECK))
	@if [ ! -f $(MAN7) ]; then \
	    echo "man-check: $(MAN7) is missing; run 'make man' and commit it" >&2; exit 1; fi
	@if ! cmp -s $(MAN7_CHECK) $(MAN7); then \
	    echo "man-check: $(MAN7) is out of date with $(MAN7_IN) or common/rules.def:" >&2; \
	    diff -u $(MAN7) $(MAN7_CHECK) | head -n 40 >&2; \
	    echo "man-check: run 'make man' and commit $(MAN7)" >&2; exit 1; fi
	@echo "man-check: $(MAN7) matches $(MAN7_IN) and common/rules.def"
	@$(MAKE) --no-print-directory man-lint

# Formats every page as man(1) would, with all groff warnings on; any
# warning (a bad escape, an unknown macro, a line that cannot be broken)
# fails.  Skipped, with a message, where groff is not installed.
man-lint:
	@if ! command -v groff >/dev/null 2>&1; then \
	    echo "man-lint: groff is not installed; pages not checked"; exit 0; fi; \
	fail=0; for p in $(MAN_PAGES); do \
	    out=$$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z $$p 2>&1); \
	    if [ -n "$$out" ]; then echo "man-lint: $$p:" >&2; echo "$$out" >&2; fail=1; fi; \
	done; \
	if [ $$fail = 0 ]; then echo "man-lint: $(MAN_PAGES) format without warnings"; fi; \
	exit $$fail
