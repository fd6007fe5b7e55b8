# tests/sarif/sarif.mk — `make sarif-check`: the SARIF report of a real
# hazard scenario, validated against the vendored SARIF 2.1.0 schema and
# checked for content; included by the top-level Makefile.

.PHONY: sarif-check

sarif-check: all $(BUILD)/scenarios/mutex_vanished_holder
	@echo "== sarif: forksan run --format sarif, validated against the SARIF 2.1.0 schema"
	@python3 tests/sarif/check_sarif.py --build $(BUILD)
