"""The memory of verified chains (crypto.verified_chains): a reconnecting client skips
re-verifying the same server chain, and nothing else about verification changes: other
names, other purposes, a changed trust store, a time outside the chain's validity and
failures are all worked out in full."""
import datetime
import ssl
import time

import pytest

import cyssl
import pki
from cyssl.crypto import certs, verified_chains
from test_api_sslobject import Pair, client_context, server_context


def connect(client_ctx, server_ctx, hostname="localhost"):
    pair = Pair(client_ctx, server_ctx, hostname=hostname)
    pair.handshake()
    return pair


def cache_of(ctx):
    return ctx._trust._verification_material().verified


@pytest.fixture
def count_verifications(monkeypatch):
    """How many times the full chain verification ran (the real one, counted)."""
    calls = []
    real = certs.verify_chain

    def counting(*args, **kwargs):
        calls.append(kwargs.get("server_name"))
        return real(*args, **kwargs)
    monkeypatch.setattr(certs, "verify_chain", counting)
    return calls


def test_second_connection_reuses_the_verified_chain(pki_files, count_verifications):
    client, server = client_context(pki_files), server_context(pki_files, cyssl)
    first = connect(client, server)
    second = connect(client, server)
    assert count_verifications == ["localhost"]
    assert len(cache_of(client)) == 1
    for pair in (first, second):
        assert pair.client.getpeercert()["subjectAltName"][0] == ("DNS", "localhost")
        assert pair.client.get_verified_chain() == first.client.get_verified_chain()
    assert len(first.client.get_verified_chain()) == 2        # leaf and root


def test_another_name_is_verified_again_and_can_fail(pki_files, count_verifications):
    client, server = client_context(pki_files), server_context(pki_files, cyssl)
    connect(client, server)
    with pytest.raises(ssl.SSLCertVerificationError) as failure:
        connect(client, server, hostname="wrong.example")
    assert failure.value.verify_code == 62                    # hostname mismatch
    connect(client, server, hostname="127.0.0.1")
    assert count_verifications == ["localhost", "wrong.example", "127.0.0.1"]
    assert len(cache_of(client)) == 2                         # failures are not kept


def test_changing_the_trust_store_starts_afresh(pki_files, count_verifications):
    client, server = client_context(pki_files), server_context(pki_files, cyssl)
    connect(client, server)
    client.load_verify_locations(cadata=pki.CA.root(name="another root").cert_pem().decode())
    assert len(cache_of(client)) == 0
    connect(client, server)
    assert len(count_verifications) == 2


def test_a_time_outside_the_chain_validity_verifies_again(pki_files, count_verifications,
                                                          monkeypatch):
    client, server = client_context(pki_files), server_context(pki_files, cyssl)
    connect(client, server)
    later = pki_files.leaf.cert.not_valid_after_utc + datetime.timedelta(seconds=1)
    monkeypatch.setattr(verified_chains.time, "time", lambda: later.timestamp())
    assert cache_of(client).get(next(iter(cache_of(client)._entries))) is None
    monkeypatch.setattr(verified_chains.time, "time", time.time)
    connect(client, server)
    assert len(count_verifications) == 2


def test_the_cache_is_bounded():
    cache = verified_chains.VerifiedChains(limit=3)
    chain = [pki.CA.root().cert]
    for key in range(5):
        cache.put(key, ("value", key), chain)
    assert len(cache) == 3
    assert cache.get(0) is None and cache.get(1) is None
    assert cache.get(4) == ("value", 4)
