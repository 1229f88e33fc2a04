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


class PKIFiles:
    """A test root, a server leaf for localhost/127.0.0.1/::1 and a client leaf, on disk."""

    def __init__(self, directory):
        import pki
        self.root = pki.CA.root()
        self.leaf = self.root.leaf()
        self.client_leaf = self.root.leaf(hosts=("client.example",), client=True, server=False)
        self.cafile = directory / "ca.pem"
        self.cafile.write_bytes(self.root.cert_pem())
        self.certfile, self.keyfile = pki.write_chain(directory, self.leaf)
        (directory / "client").mkdir()
        self.client_certfile, self.client_keyfile = pki.write_chain(directory / "client",
                                                                    self.client_leaf)


@pytest.fixture(scope="session")
def pki_files(tmp_path_factory):
    return PKIFiles(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def cli_pki(tmp_path_factory):
    """Certificate files for the openssl command line peers, as a dict."""
    import pki
    tmp = tmp_path_factory.mktemp("cli")
    root = pki.CA.root()
    leaf = root.leaf()
    client_leaf = root.leaf(hosts=("client.example",), client=True, server=False)
    (tmp / "ca.pem").write_bytes(root.cert_pem())
    server_files = pki.write_chain(tmp, leaf)
    (tmp / "client").mkdir()
    client_files = pki.write_chain(tmp / "client", client_leaf)
    return {"root": root, "leaf": leaf, "client_leaf": client_leaf, "ca": tmp / "ca.pem",
            "server": server_files, "client": client_files}
