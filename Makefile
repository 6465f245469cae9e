# Two entry points: `make run` and `make test`. Both build .venv on first use.
# The browser test drives Debian's Chromium: `make test` installs it when it is missing.
# The legal acts (PDF, WeasyPrint) need Pango and fonts (`pdf-deps`) and use the State's Marianne
# typeface from the DSFR npm package (`dsfr`, into .vendor/): both installed only when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint install chromium dsfr pdf-deps clean

$(STAMP): pyproject.toml constraints.txt
	@echo "Installation de l'environnement Python dans $(VENV) (quelques minutes la première fois)…"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "Python 3.11 est requis : $(PYTHON) est $$($(PYTHON) --version 2>&1) (indiquez-le : make run PYTHON=python3.11)" >&2; \
		exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==26.3
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP) dsfr

run: $(STAMP) dsfr pdf-deps
	$(BIN)/territoires up --demo

chromium:
	@command -v chromium >/dev/null 2>&1 || $(SUDO) apt-get install -y chromium \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

DSFR_FONTS := .vendor/dsfr/node_modules/@gouvfr/dsfr/dist/fonts
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core fonts-liberation2

# Only the fonts are used; --ignore-scripts: the package's preinstall script refuses to run outside
# a DSFR project (and nothing of a package's own scripts is needed here).
dsfr:
	@test -d $(DSFR_FONTS) || { \
		command -v npm >/dev/null 2>&1 || { echo "npm est requis (polices du DSFR) : installez Node.js et npm" >&2; exit 1; }; \
		echo "Installation des polices du DSFR (npm, une seule fois)…"; \
		npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
			--prefix .vendor/dsfr @gouvfr/dsfr@1.15.3; }

pdf-deps:
	@ldconfig -p | grep -q libpango-1.0 || { \
		echo "Installation de Pango et des polices des PDF (apt-get : $(PDF_PACKAGES))…"; \
		$(SUDO) apt-get install -y $(PDF_PACKAGES) \
			|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y $(PDF_PACKAGES)); }

# The house's checks come first: lint and format (ruff), and the import contracts (import-linter,
# configured in .importlinter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Two passes: every test, chaos suite included, on two workers (one test file per worker at a
# time: a file's module fixtures, such as its platform or chaos stack, stay in one process), then
# the tests marked `exclusive` alone, because they stop PostgreSQL under the other tests' feet.
# Exit status 5 (no test selected, e.g. PYTEST_ARGS="-k ...") is not a failure of a pass.
test: lint chromium dsfr pdf-deps
	$(BIN)/python -m pytest -m "not exclusive" -n 2 --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -m exclusive $(PYTEST_ARGS) || [ $$? -eq 5 ]

clean:
	rm -rf $(VENV) var test-output .vendor
