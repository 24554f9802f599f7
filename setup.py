"""The one thing pyproject.toml cannot say: the compiled scoring core.

``pip install -e .`` (``make install``) builds ``sentiment/model/_fastscore``
from its Cython source with the C compiler (gcc and the Python headers).
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
            )
        ],
        compiler_directives={"language_level": "3"},
    )
)
