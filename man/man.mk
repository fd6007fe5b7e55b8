# man/man.mk — the generated part of the man pages; included by the
# top-level Makefile.
#
#   make man         regenerate man/forksan.1 from man/forksan.1.in, with the
#                    FORKSAN_OPTIONS list expanded from probes/options.def
#   make man-check   regenerate into $(BUILD)/man/ and fail if the committed
#                    man/forksan.1 differs (the page drifted from the table)
#
# man/forksan.1 is committed, so `make install` and readers of the
# repository need no generator; man-check keeps it honest.  forksan.7 and
# forksan-trace.5 are written by hand.

MAN_GEN      := $(BUILD)/bin/fsan-gen-options
MAN_OPTIONS  := $(BUILD)/man/options.roff
MAN1_IN      := man/forksan.1.in
MAN1         := man/forksan.1
MAN1_CHECK   := $(BUILD)/man/forksan.1

# `man` is also the name of the directory: phony, or make thinks it is built.
.PHONY: man man-options man-check

$(MAN_GEN): man/gen-options.c probes/options.def probes/options.h
	@mkdir -p $(dir $@)
	$(CC) $(BASEFLAGS) -o $@ man/gen-options.c

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

man: $(MAN1)

# The name options.def's header comment uses for the same thing.
man-options: man

man-check: $(MAN_OPTIONS)
	$(call man1_render,$(MAN1_CHECK))
	@if [ ! -f $(MAN1) ]; then \
	    echo "man-check: $(MAN1) is missing; run 'make man' and commit it" >&2; exit 1; fi
	@if ! cmp -s $(MAN1_CHECK) $(MAN1); then \
	    echo "man-check: $(MAN1) is out of date with $(MAN1_IN) or probes/options.def:" >&2; \
	    diff -u $(MAN1) $(MAN1_CHECK) | head -n 40 >&2; \
	    echo "man-check: run 'make man' and commit $(MAN1)" >&2; exit 1; fi
	@echo "man-check: $(MAN1) matches $(MAN1_IN) and probes/options.def"
