"""The one thing pyproject.toml cannot say: the compiled cores.

``pip install -e .`` (``make install``) builds ``sentiment/model/_fastscore``
(the classic model's scorer) and ``sentiment/model/_langid`` (fastText's
language identification) from their Cython sources with the C compiler (gcc
and the Python headers).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "sentiment.model._fastscore",
                ["sentiment/model/_fastscore.pyx"],
                extra_compile_args=["-O3"],
            ),
            Extension(
                "sentiment.model._langid",
                ["sentiment/model/_langid.pyx"],
                # fastText's float arithmetic exactly: no fused multiply-adds.
                extra_compile_args=["-O3", "-ffp-contract=off"],
            ),
        ],
        compiler_directives={"language_level": "3"},
    )
)
