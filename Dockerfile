# syntax=docker/dockerfile:1
# The Streamlit page (default) or the API, with the committed model inside.
#   docker build -t sentiment .
#   docker run -p 8501:8501 sentiment                       # the page
#   docker run -p 127.0.0.1:8000:8000 -e SENTIMENT_API_HOST=0.0.0.0 \
#       -e SENTIMENT_API_KEYS_FILE=/run/secrets/api-keys -v ./api-keys:/run/secrets/api-keys:ro \
#       -e HEALTHCHECK_URL=http://127.0.0.1:8000/health sentiment python -m sentiment.api
#   (the API listens on 127.0.0.1 unless SENTIMENT_API_HOST says otherwise, and
#   answers /predict only with a key; README "REST API" has the details)
# Hugging Face Spaces builds this file as is (README front matter: sdk: docker).
# Without a registry (our CI): `make image` builds a Debian base from packages
# and passes it as BASE; anything with python3 and python3-venv will do.
ARG BASE=python:3.11.7-slim-bookworm
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Spaces run containers as uid 1000; so does everyone else here: never root.
# A venv, so the same steps work on python:slim and on Debian's python3 (which
# refuses system-wide pip installs, PEP 668); python and pip come from it.
RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin app \
    && mkdir -p /home/app/data \
    && chown app:app /home/app/data \
    && python3 -m venv /opt/venv
WORKDIR /home/app/app

# Pinned dependencies first, so a code change reuses this layer: the package,
# the page's extra and the API's extra. The test suites that wheels ship
# (pandas, scipy, numpy...: about 120 MB) never run here; removed in the same
# layer, so they take no space.
COPY requirements*.txt ./
RUN pip install -r requirements.txt -r requirements-app.txt -r requirements-api.txt \
    && find /opt/venv/lib -depth -type d -name tests -path '*/site-packages/*' \
        -exec rm -rf {} +

# Code and model belong to root: the serving user can read them, not swap them.
# models/ is copied whole; .dockerignore keeps archives and training inputs out.
COPY pyproject.toml setup.py README.md app.py params.yaml ./
COPY .streamlit/ .streamlit/
COPY app_pages/ app_pages/
COPY sentiment/ sentiment/
COPY models/ models/

# Editable install: the code stays in this folder, where config finds models/
# beside sentiment/ (a regular install would move it into site-packages).
# The compiled scoring core needs a C compiler and Python's headers only while
# it is built: python:slim has the headers, Debian's python3 (our CI's base)
# gets them from python3-dev; all of it is removed in the same layer.
RUN build_deps="gcc libc6-dev"; \
    if ! python -c "import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))"; \
    then build_deps="$build_deps python3-dev"; fi; \
    apt-get update \
    && apt-get install -y --no-install-recommends $build_deps \
    && pip install --no-deps -e . \
    && apt-get purge -y $build_deps && apt-get autoremove -y \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && python -c "import importlib, pathlib; [importlib.import_module(f'sentiment.model.{p.stem}') for p in pathlib.Path('sentiment/model').glob('_*.pyx')]"

ENV SENTIMENT_LOG_DB=/home/app/data/predictions.db \
    HEALTHCHECK_URL=http://127.0.0.1:8501/_stcore/health \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

USER app
EXPOSE 8501
# slim has no curl: the standard library does the request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4)"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
