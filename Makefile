# Two entry points: `make run` and `make test`. Both build .venv on first use.
# The browser test drives Debian's Chromium: `make test` installs it when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install chromium clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/territoires up --demo

chromium:
	@command -v chromium >/dev/null 2>&1 || $(SUDO) apt-get install -y chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

# Two passes: every test, chaos suite included, on two workers (one test file per worker at a
# time: a file's module fixtures, such as its served platform, stay in one process), then the
# tests marked `exclusive` alone, because they stop PostgreSQL under the other tests' feet.
# Exit status 5 (no test selected, e.g. PYTEST_ARGS="-k ...") is not a failure of a pass.
test: $(STAMP) chromium
	$(BIN)/python -m pytest -m "not exclusive" -n 2 --dist loadfile $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m exclusive $(PYTEST_ARGS) || [ $$? -eq 5 ]

clean:
	rm -rf $(VENV) var test-output
