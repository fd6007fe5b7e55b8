# tests/html/html.mk — `make html-check`: the HTML report, in a real browser;
# included by the top-level Makefile.
#
# Runs a real hazard scenario under `forksan run --format html`, loads the
# page in headless Chromium (Debian's `chromium`, installed by `make deps`)
# and checks what the browser built: one process node per process, one
# finding mark per finding of the JSON report of the same traces, stacks in
# the text report's form, no console message, no external URL, and that
# markup in a thread name and an exe path (tests/html/hostile.c) stays
# text; and a hand-built model (tests/html/fixture.c) covers what real runs
# cannot yet give: Python frames, the "other processes" row, every kind of
# exit.  It leaves the page and a screenshot in $(BUILD)/html/ for people
# to look at; the check itself trusts only the DOM.

.PHONY: html-check

$(BUILD)/html/hostile: tests/html/hostile.c tests/scenarios/common.h
	@mkdir -p $(dir $@)
	$(CC) -g -O0 -fno-omit-frame-pointer -pthread -Wall -Wextra -Werror -Itests/scenarios -o $@ $<

# The renderer on a hand-built model (see fixture.c), under ASan and UBSan.
HTML_FIXTURE_SRCS := tests/html/fixture.c reports/render_html.c reports/render_json.c reports/jsonw.c \
                     common/catalogue.c common/model.c

$(BUILD)/html/fixture: $(HTML_FIXTURE_SRCS) $(wildcard analyzer/*.h reports/*.h common/*.h common/*.def)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(TEST_SAN) -o $@ $(HTML_FIXTURE_SRCS)

html-check: all $(BUILD)/scenarios/mutex_vanished_holder $(BUILD)/html/hostile $(BUILD)/html/fixture
	@echo "== html: forksan run --format html, loaded in headless Chromium"
	@python3 tests/html/check_html.py --build $(BUILD)
