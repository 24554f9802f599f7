"""The one thing pyproject.toml cannot say: the compiled cores.

``pip install -e .`` (``make install``) builds, from their Cython sources with
the C compiler (gcc and the Python headers), every ``sentiment/model/_*.pyx``:
``_fastscore`` (the classic model's scorer) with ``_chunks`` (its analyses of
chunks), ``_lookup`` (its tables) and ``_chunk_tokens``, ``_language_lines``
(the line the language model reads) and ``_langid`` (fastText's language
identification).
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

# fastText's float arithmetic exactly: no fused multiply-adds in _langid.
EXACT_FLOATS = {"_langid": ["-ffp-contract=off"]}

setup(
    ext_modules=cythonize(
        [
            Extension(
                f"sentiment.model.{source.stem}",
                [str(source)],
                extra_compile_args=["-O3", *EXACT_FLOATS.get(source.stem, [])],
            )
            for source in sorted(Path("sentiment/model").glob("_*.pyx"))
        ],
        compiler_directives={"language_level": "3"},
    )
)
