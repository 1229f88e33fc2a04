"""The engine is compiled: importing it loads extension modules, not Python sources."""
import importlib
import importlib.machinery

import pytest

ENGINE_MODULES = ["cyssl.tls.codec", "cyssl.tls.record", "cyssl.tls.keyschedule",
                  "cyssl.tls.errors", "cyssl.tls.span"]


@pytest.mark.parametrize("name", ENGINE_MODULES)
def test_engine_module_is_a_compiled_extension(name):
    module = importlib.import_module(name)
    assert module.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), module.__file__
    assert isinstance(module.__loader__, importlib.machinery.ExtensionFileLoader)


def test_version_is_exposed():
    import cyssl
    assert isinstance(cyssl.__version__, str) and cyssl.__version__
