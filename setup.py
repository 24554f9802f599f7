"""The one thing pyproject.toml cannot say: the compiled cores.

``pip install -e .`` (``make install``) builds, from their Cython sources with
the C compiler (gcc and the Python headers), ``sentiment/model/_fastscore``
(the classic model's scorer) and its helper ``_chunk_tokens``,
``_language_lines`` (the line the language model reads) and ``_langid``
(fastText's language identification).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

# fastText's float arithmetic exactly: no fused multiply-adds in _langid.
EXACT_FLOATS = ["-ffp-contract=off"]

setup(
    ext_modules=cythonize(
        [
            Extension(
                f"sentiment.model.{name}",
                [f"sentiment/model/{name}.pyx"],
                extra_compile_args=["-O3", *flags],
            )
            for name, flags in (
                ("_fastscore", []),
                ("_chunk_tokens", []),
                ("_language_lines", []),
                ("_langid", EXACT_FLOATS),
            )
        ],
        compiler_directives={"language_level": "3"},
    )
)
