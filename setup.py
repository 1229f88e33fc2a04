"""Build script: cythonize every .pyx under src/cyssl; all metadata lives in pyproject.toml."""
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

SRC = Path("src")


def extensions():
    for pyx in sorted(SRC.glob("cyssl/**/*.pyx")):
        module = ".".join(pyx.relative_to(SRC).with_suffix("").parts)
        yield Extension(module, [str(pyx)])


setup(
    ext_modules=cythonize(
        list(extensions()),
        compiler_directives={"language_level": "3", "embedsignature": True},
        include_path=[str(SRC)],
    ),
)
