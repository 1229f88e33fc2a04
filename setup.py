"""Build script: cythonize every .pyx under src/cyssl, and compile a few plain-Python
modules that run on every handshake (the .py stays the source; its compiled module is
what imports, as extension modules come first). All metadata lives in pyproject.toml."""
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

SRC = Path("src")


# Plain Python on the handshake path: glue around `cryptography` and ticket encoding.
COMPILED_PYTHON = ["cyssl/crypto/aead.py", "cyssl/crypto/groups.py", "cyssl/crypto/signatures.py",
                   "cyssl/crypto/verified_chains.py", "cyssl/tls/tickets.py",
                   "cyssl/tls/verification.py"]


def extensions(sources):
    for source in sources:
        module = ".".join(source.relative_to(SRC).with_suffix("").parts)
        yield Extension(module, [str(source)])


DIRECTIVES = {"language_level": "3", "embedsignature": True}

setup(
    ext_modules=cythonize(list(extensions(sorted(SRC.glob("cyssl/**/*.pyx")))),
                          compiler_directives=DIRECTIVES, include_path=[str(SRC)])
    # In the .py files annotations document; they do not become C type checks.
    + cythonize(list(extensions(SRC / name for name in COMPILED_PYTHON)),
                compiler_directives=dict(DIRECTIVES, annotation_typing=False)),
)
