# Set-up and everyday tasks. `make demo` and `make test` install first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test fuzz bench train clean chromium

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	# irrCAC, an oracle for Gwet's AC1 in tests, pins scipy==1.12 and pandas<3: installed without its pins
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps irrCAC==0.4.4
	@touch $(STAMP)

demo: install
	$(BIN)/ethos score data/examples/exemple01.txt

test: install
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(BIN)/python -m pytest -q

# The HTML report is tested in a real headless browser: Debian's chromium, installed where we can.
chromium:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser test of the HTML report..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
			|| echo "chromium could not be installed: the browser test will be skipped"; \
	else echo "chromium is not installed and cannot be installed here: the browser test will be skipped"; fi

# Long random fuzzing, outside the suite: new random examples on every run, fifty times as many.
fuzz: install
	ETHOS_HYPOTHESIS_PROFILE=fuzz ETHOS_FUZZ_SCALE=50 $(BIN)/python -m pytest -q tests/test_hostile.py tests/test_agreement.py

bench: install
	$(BIN)/python bench/run.py

train: install
	$(BIN)/ethos train --data data/annotated --model-dir models/default

clean:
	rm -rf $(VENV) build *.egg-info
