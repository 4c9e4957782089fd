# The two commands that matter: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SAMPLE := sample_data/harbor_coffee

.PHONY: demo test lab bench lint clean venv

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the workbook and its dependencies into $(VENV) (first time only)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workbook)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/workbook run $(SAMPLE) --out runs

test: $(STAMP)
	@$(BIN)/ruff check helpers tests bench
	@WORKBOOK_RUNS_DIR=$$(mktemp -d) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax \
		-p no:cacheprovider tests notebooks

lab: $(STAMP)
	@$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	@$(BIN)/python bench/bench_workbook.py
	@$(BIN)/python bench/bench_models.py
	@$(BIN)/python bench/bench_media.py

lint: $(STAMP)
	@$(BIN)/ruff check helpers tests bench
	@$(BIN)/ruff format --check helpers tests bench

clean:
	rm -rf runs .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
