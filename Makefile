# Set-up and everyday tasks. `make demo` and `make test` install first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench train clean

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
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run.py

train: install
	$(BIN)/ethos train --data data/annotated --model-dir models/default

clean:
	rm -rf $(VENV) build *.egg-info
