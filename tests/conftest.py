import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).parent / "vectors"


def load_vectors(name):
    """A JSON file of known answers from tests/vectors (each names its source)."""
    return json.loads((VECTORS / name).read_text())


@pytest.fixture(scope="session")
def rfc8448_simple():
    return load_vectors("rfc8448_simple_1rtt.json")


@pytest.fixture(scope="session")
def rfc8448_hrr():
    return load_vectors("rfc8448_hrr.json")
