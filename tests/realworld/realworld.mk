# tests/realworld/realworld.mk — real programs bare and under forksan run
# (CPython's regression tests, PostgreSQL, Redis, nginx); included by the
# top-level Makefile.  Installs the programs (apt-get, only when missing),
# builds forksan, writes $(BUILD)/realworld/results.json and precision.md.
#
#   make realworld         every target (about 15 minutes on 2 cores)
#   make realworld-quick   the fast subset (test_fork1, test_thread, test_os, PostgreSQL, Redis, nginx; about a minute)
#   python3 tests/realworld/run.py --build build --only redis   one target

REALWORLD_PYTHON ?= /usr/bin/python3

.PHONY: realworld realworld-quick realworld-deps

realworld-deps:
	@sh tests/install-deps.sh build
	@sh tests/install-deps.sh realworld

realworld: realworld-deps
	@$(MAKE) --no-print-directory all
	@$(REALWORLD_PYTHON) tests/realworld/run.py --build $(BUILD)

realworld-quick: realworld-deps
	@$(MAKE) --no-print-directory all
	@$(REALWORLD_PYTHON) tests/realworld/run.py --build $(BUILD) --quick
