# Run `make` (or `make help`) to list the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED := ../shared/data/semeval2017

.DEFAULT_GOAL := help
.PHONY: help install app demo test lint format vectors train evaluate screenshot drift status api bench

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt requirements-app.txt requirements-api.txt requirements-dask.txt requirements-transformer.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $@

install: $(STAMP) ## Create .venv with the pinned runtime and dev dependencies

app: install ## Start the web page on http://localhost:8501
	$(BIN)/streamlit run app.py

demo: install ## Score examples/posts.csv with the committed model
	$(BIN)/python -m sentiment.predict examples/posts.csv --output examples/posts_scored.csv
	@cat examples/posts_scored.csv

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

drift: install ## Drift of the SemEval test set against the committed model's profile
	$(BIN)/python -m sentiment.monitor drift --current $(SHARED)/test.csv --html drift_report.html

status: install ## Prediction-log counts, settings and dropped rows
	$(BIN)/python -m sentiment.monitor status

api: install ## Start the REST API on http://127.0.0.1:8000
	$(BIN)/uvicorn sentiment.api:app --host 127.0.0.1 --port 8000 --no-access-log

bench: install ## Serving benchmark -> benchmarks/results.md
	$(BIN)/python benchmarks/bench.py

transformer: ## Fine-tune the transformer tier (torch, in .venv-transformer; resumable: TRANSFORMER_ARGS=--resume)
	$(PYTHON) -m venv .venv-transformer
	.venv-transformer/bin/python -m pip install -q -r requirements-transformer-train.txt -e .
	nice -n 10 .venv-transformer/bin/python -m sentiment.train --backend transformer --data $(SHARED)/train.csv $(TRANSFORMER_ARGS)
	.venv-transformer/bin/python -m sentiment.train --backend cascade --data $(SHARED)/train.csv

compare: install ## Compare VADER, TextBlob, classic, transformer and cascade on SemEval-2017 test -> benchmarks/compare_tiers.md
	$(BIN)/python benchmarks/compare_tiers.py

.PHONY: transformer compare
