# Run `make` (or `make help`) to list the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED := ../shared/data/semeval2017
# `make app` listens on this machine only unless told otherwise.
APP_HOST ?= 127.0.0.1
APP_PORT ?= 8501

.DEFAULT_GOAL := help
.PHONY: help install app demo test lint format vectors train evaluate screenshot drift status retrain api bench brand-posts

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt requirements-app.txt requirements-api.txt requirements-dask.txt requirements-transformer.txt requirements-transformer-export.txt requirements-cloud.txt pyproject.toml setup.py $(wildcard sentiment/model/_*.pyx sentiment/model/_*.pxd)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $@

install: $(STAMP) ## Create .venv with the pinned runtime and dev dependencies

app: install ## Start the web page on http://127.0.0.1:8501 (APP_HOST=0.0.0.0 to share it, APP_PORT=...)
	@$(BIN)/python scripts/port_free.py $(APP_HOST) $(APP_PORT)
	$(BIN)/python -m streamlit run app.py --server.address $(APP_HOST) --server.port $(APP_PORT)

demo: install ## Score examples/posts.csv, then the brand summary of examples/brand_posts.csv
	$(BIN)/python -m sentiment.predict examples/posts.csv --output examples/posts_scored.csv
	@cat examples/posts_scored.csv
	$(BIN)/python -m sentiment.brands --watchlist examples/brands.toml examples/brand_posts.csv --no-log --no-progress

test: install ## Run the whole test suite, and the notebooks when the benchmark data is there
	$(BIN)/python -m pytest
	@if [ -f $(SHARED)/train.csv ] && [ -f $(SHARED)/test.csv ]; then \
		$(BIN)/python -m pytest -q --nbmake notebooks/; \
	else echo "notebooks skipped: $(SHARED) not found"; fi

lint: install ## Check formatting (black) and style (flake8)
	$(BIN)/black --check .
	$(BIN)/flake8

format: install ## Reformat the code with black
	$(BIN)/black .

vectors: ## Rebuild models/word_vectors.npz from the pretrained encoder (torch, in .venv-vectors)
	$(PYTHON) -m venv .venv-vectors
	.venv-vectors/bin/python -m pip install -q -r requirements-vectors.txt -e .
	.venv-vectors/bin/python -m sentiment.vectors --data $(SHARED)/train.csv

train: install ## Retrain models/model.pkl on the SemEval-2017 training set
	$(BIN)/python -m sentiment.train --data $(SHARED)/train.csv --test-data $(SHARED)/test.csv

evaluate: install ## Evaluate the committed model on the SemEval-2017 test set
	$(BIN)/python -m sentiment.evaluate --data $(SHARED)/test.csv

screenshot: install ## Retake docs/screenshot.png from the running page
	$(BIN)/python scripts/app_screenshot.py
	$(BIN)/python scripts/app_screenshot.py --monitoring
	$(BIN)/python scripts/app_screenshot.py --brands

drift: install ## Drift of the SemEval test set against the committed model's profile
	$(BIN)/python -m sentiment.monitor drift --current $(SHARED)/test.csv --html drift_report.html

status: install ## Prediction-log counts, settings and dropped rows
	$(BIN)/python -m sentiment.monitor status

retrain: install ## Retrain if corrections, new files or drift call for it; promote if the gate passes (RETRAIN_ARGS=--dry-run)
	$(BIN)/python -m sentiment.retrain --auto $(RETRAIN_ARGS)

api: install ## Start the REST API on http://127.0.0.1:8000 (SENTIMENT_API_HOST to change; needs SENTIMENT_API_KEYS or _FILE)
	$(BIN)/python -m sentiment.api --port 8000

bench: install ## Serving benchmark -> benchmarks/results.md
	$(BIN)/python benchmarks/bench.py

brand-posts: ## Regenerate examples/brand_posts.csv (made-up posts, seeded: same file)
	$(BIN)/python scripts/make_brand_posts.py

# --- the container image (issue 14) ---
IMAGE ?= localhost/sentiment:latest
.PHONY: image smoke-image

image: ## Build the image with podman, base from Debian packages (no registry needed)
	scripts/build_image.sh $(IMAGE)

smoke-image: ## Smoke-test the built image: page, API, HEALTHCHECK, non-root, read-only model
	CONTAINERS_CONF=$(CURDIR)/scripts/containers.conf $(PYTHON) scripts/smoke_image.py $(IMAGE)

# --- the reproducible pipeline (issue 14) ---
.PHONY: dvc-install repro

.venv-dvc/.installed: requirements-dvc.txt
	$(PYTHON) -m venv .venv-dvc
	.venv-dvc/bin/python -m pip install -q -r requirements-dvc.txt
	touch $@

dvc-install: .venv-dvc/.installed ## Install DVC into .venv-dvc (apart from the project's pins)

repro: install dvc-install ## Rebuild what changed in dvc.yaml's pipeline, then print the scores
	.venv-dvc/bin/dvc repro
	.venv-dvc/bin/dvc metrics show

transformer: ## Fine-tune the transformer tier (torch, in .venv-transformer; resumable: TRANSFORMER_ARGS=--resume)
	$(PYTHON) -m venv .venv-transformer
	.venv-transformer/bin/python -m pip install -q -r requirements-transformer-train.txt -e .
	nice -n 10 .venv-transformer/bin/python -m sentiment.train --backend transformer --data $(SHARED)/train.csv $(TRANSFORMER_ARGS)
	.venv-transformer/bin/python -m sentiment.train --backend cascade --data $(SHARED)/train.csv

compare: install ## Compare VADER, TextBlob, classic, transformer and cascade on SemEval-2017 test -> benchmarks/compare_tiers.md
	$(BIN)/python benchmarks/compare_tiers.py

.PHONY: transformer compare
