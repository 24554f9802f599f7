"""The one thing pyproject.toml cannot say: the compiled scoring core.

``pip install -e .`` (``make install``) builds ``sentiment/model/_fastscore``
and its helpers ``_chunk_tokens`` and ``_language_lines`` from their Cython
sources with the C compiler (gcc and the Python headers).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                f"sentiment.model.{name}",
                [f"sentiment/model/{name}.pyx"],
                extra_compile_args=["-O3"],
            )
            for name in ("_fastscore", "_chunk_tokens", "_language_lines")
        ],
        compiler_directives={"language_level": "3"},
    )
)
