"""Key schedule: RFC 8448 (TLS 1.3) and TLS 1.2 PRF / extended master secret known answers."""
import hashlib
import hmac
import os
import subprocess
import sys

import pytest

from cyssl.tls import keyschedule as ks
from cyssl.tls.errors import TLSError

from conftest import load_vectors

H = bytes.fromhex


def transcript_of(messages, hash_name="sha256"):
    t = ks.Transcript(hash_name)
    for m in messages:
        t.update(H(m))
    return t.digest()


def transcript_after_hrr(messages):
    """After a HelloRetryRequest, ClientHello1 becomes message_hash (RFC 8446 section 4.4.1)."""
    t = ks.Transcript("sha256")
    t.update(H(messages[0]))
    t.restart_with_message_hash()
    for m in messages[1:]:
        t.update(H(m))
    return t.digest()


SERVER_FLIGHT = ["server_hello", "encrypted_extensions", "certificate", "certificate_verify"]


def run_schedule(v, msgs, digest=transcript_of):
    """Drive the whole TLS 1.3 schedule over a trace; return every value it derives.
    ``msgs(names)`` gives the handshake messages up to and including ``names``."""
    th_sh = digest(msgs(["server_hello"]))
    th_before_sf = digest(msgs(SERVER_FLIGHT))
    th_sf = digest(msgs(SERVER_FLIGHT + ["server_finished"]))
    th_cf = digest(msgs(SERVER_FLIGHT + ["server_finished", "client_finished"]))
    s = ks.KeySchedule("sha256")
    out = {"early_secret": s.secret}
    s.derive_handshake_secret(H(v["ecdhe_shared_secret"]))
    out["handshake_secret"] = s.secret
    chts, shts = s.handshake_traffic_secrets(th_sh)
    out["client_handshake_traffic_secret"], out["server_handshake_traffic_secret"] = chts, shts
    s.derive_master_secret()
    out["master_secret"] = s.secret
    cats, sats = s.application_traffic_secrets(th_sf)
    out["client_application_traffic_secret_0"] = cats
    out["server_application_traffic_secret_0"] = sats
    out["exporter_master_secret"] = s.exporter_master_secret(th_sf)
    out["resumption_master_secret"] = s.resumption_master_secret(th_cf)
    for side, secret in (("server_handshake", shts), ("client_handshake", chts),
                         ("server_application", sats), ("client_application", cats)):
        out[side + "_key"], out[side + "_iv"] = ks.traffic_key_iv("sha256", secret, 16, 12)
    out["server_finished_key"] = ks.finished_key("sha256", shts)
    out["client_finished_key"] = ks.finished_key("sha256", chts)
    out["server_finished_verify_data"] = ks.finished_verify_data(
        "sha256", out["server_finished_key"], th_before_sf)
    out["client_finished_verify_data"] = ks.finished_verify_data(
        "sha256", out["client_finished_key"], th_sf)
    return out


SCHEDULE_FIELDS = [
    "early_secret", "handshake_secret", "client_handshake_traffic_secret",
    "server_handshake_traffic_secret", "master_secret", "client_application_traffic_secret_0",
    "server_application_traffic_secret_0", "exporter_master_secret", "resumption_master_secret",
    "server_handshake_key", "server_handshake_iv", "client_handshake_key", "client_handshake_iv",
    "server_application_key", "server_application_iv", "client_application_key",
    "client_application_iv", "server_finished_key", "client_finished_key",
    "server_finished_verify_data", "client_finished_verify_data",
]


@pytest.mark.parametrize("field", SCHEDULE_FIELDS)
def test_rfc8448_simple_1rtt(rfc8448_simple, field):
    v = rfc8448_simple
    derived = run_schedule(v, lambda rest: [v["transcript"]["client_hello"]] +
                           [v["transcript"][m] for m in rest])
    assert derived[field].hex() == v[field]


@pytest.mark.parametrize("field", SCHEDULE_FIELDS)
def test_rfc8448_hello_retry_request(rfc8448_hrr, field):
    v = rfc8448_hrr
    t = v["transcript"]

    def with_hrr(rest):
        return [t["client_hello_1"], t["hello_retry_request"], t["client_hello_2"]] + \
               [t[m] for m in rest]

    derived = run_schedule(v, with_hrr, digest=transcript_after_hrr)
    assert derived[field].hex() == v[field]


def test_rfc8448_intermediate_derived_secrets(rfc8448_simple):
    v = rfc8448_simple
    early = H(v["early_secret"])
    assert ks.derive_secret("sha256", early, b"derived", ks.empty_hash("sha256")).hex() == \
        v["derived_for_handshake"]
    assert ks.derive_secret("sha256", H(v["handshake_secret"]), b"derived",
                            ks.empty_hash("sha256")).hex() == v["derived_for_master"]


def test_rfc8448_transcript_hashes(rfc8448_simple, rfc8448_hrr):
    t = rfc8448_simple["transcript"]
    assert transcript_of([t["client_hello"], t["server_hello"]]).hex() == \
        rfc8448_simple["transcript_hashes"]["client_hello..server_hello"]
    h = rfc8448_hrr["transcript"]
    tr = ks.Transcript()                      # hash chosen after the ClientHello arrived
    tr.update(H(h["client_hello_1"]))
    tr.select_hash("sha256")
    tr.restart_with_message_hash()
    for m in ("hello_retry_request", "client_hello_2", "server_hello"):
        tr.update(H(h[m]))
    assert tr.digest().hex() == rfc8448_hrr["transcript_hashes"]["message_hash..server_hello"]


def test_rfc8448_resumption_psk(rfc8448_simple):
    v = rfc8448_simple
    psk = ks.resumption_psk("sha256", H(v["resumption_master_secret"]), H(v["ticket_nonce"]))
    assert psk.hex() == v["resumption_psk"]


def test_finished_verify_data_matches_the_finished_messages(rfc8448_simple):
    v = rfc8448_simple
    assert v["transcript"]["server_finished"][8:] == v["server_finished_verify_data"]
    assert v["transcript"]["client_finished"][8:] == v["client_finished_verify_data"]


def test_transcript_snapshot_does_not_stop_the_running_hash():
    t = ks.Transcript("sha384")
    t.update(b"abc")
    first = t.digest()
    assert first == hashlib.sha384(b"abc").digest()
    t.update(b"def")
    assert t.digest() == hashlib.sha384(b"abcdef").digest()
    c = t.copy()
    c.update(b"x")
    assert t.digest() == hashlib.sha384(b"abcdef").digest()
    assert c.digest() == hashlib.sha384(b"abcdefx").digest()


def test_transcript_misuse_fails_closed():
    t = ks.Transcript()
    with pytest.raises(TLSError):
        t.digest()
    t.select_hash("sha256")
    with pytest.raises(TLSError):
        t.select_hash("sha384")


def test_key_schedule_refuses_steps_out_of_order():
    s = ks.KeySchedule("sha256")
    with pytest.raises(TLSError):
        s.handshake_traffic_secrets(bytes(32))
    with pytest.raises(TLSError):
        s.derive_master_secret()
    s.derive_handshake_secret(bytes(32))
    with pytest.raises(TLSError):
        s.binder_key()


def test_binder_keys_differ_for_external_and_resumption_psks():
    s = ks.KeySchedule("sha256", psk=b"\x01" * 32)
    assert s.binder_key(external=True) != s.binder_key(external=False)
    expected = ks.derive_secret("sha256", ks.hkdf_extract("sha256", b"", b"\x01" * 32),
                                b"res binder", hashlib.sha256().digest())
    assert s.binder_key() == expected


def test_sha384_schedule_lengths():
    s = ks.KeySchedule("sha384")
    assert len(s.secret) == 48 and s.hash_length == 48
    s.derive_handshake_secret(bytes(32))
    c, srv = s.handshake_traffic_secrets(bytes(48))
    assert len(c) == len(srv) == 48 and c != srv
    key, iv = ks.traffic_key_iv("sha384", c, 32, 12)
    assert len(key) == 32 and len(iv) == 12


def test_next_traffic_secret_is_expand_label_traffic_upd():
    secret = bytes(range(32))
    assert ks.next_traffic_secret("sha256", secret) == \
        ks.hkdf_expand_label("sha256", secret, b"traffic upd", b"", 32)


def test_exporter_follows_rfc8446_section_7_5():
    ems = bytes(range(32))
    inner = ks.derive_secret("sha256", ems, b"EXPERIMENTAL label", hashlib.sha256(b"").digest())
    expected = ks.hkdf_expand_label("sha256", inner, b"exporter", hashlib.sha256(b"ctx").digest(), 40)
    assert ks.export_keying_material("sha256", ems, b"EXPERIMENTAL label", b"ctx", 40) == expected


def test_hkdf_rfc5869_case_1():
    """RFC 5869 appendix A.1 (SHA-256, basic)."""
    prk = ks.hkdf_extract("sha256", H("000102030405060708090a0b0c"), H("0b" * 22))
    assert prk.hex() == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    okm = ks.hkdf_expand("sha256", prk, H("f0f1f2f3f4f5f6f7f8f9"), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_hkdf_rejects_bad_parameters():
    with pytest.raises(ValueError):
        ks.hkdf_expand("sha256", bytes(32), b"", 255 * 32 + 1)
    with pytest.raises(ValueError):
        ks.hkdf_extract("md5", b"", b"")
    with pytest.raises(ValueError):
        ks.hkdf_expand_label("sha256", bytes(32), b"x" * 250, b"", 32)


TLS12 = load_vectors("tls12_prf.json")


@pytest.mark.parametrize("case", TLS12["prf"], ids=lambda c: c["source"][:40] + c["hash"])
def test_tls12_prf_known_answers(case):
    output = H(case["output"])
    got = ks.prf12(case["hash"], H(case["secret"]), case["label"].encode(), H(case["seed"]),
                   len(output))
    assert got == output


@pytest.mark.parametrize("case", TLS12["extended_master_secret"], ids=lambda c: c["hash"])
def test_tls12_extended_master_secret_known_answer(case):
    got = ks.extended_master_secret12(case["hash"], H(case["pre_master_secret"]),
                                      H(case["session_hash"]))
    assert got.hex() == case["master_secret"]


def test_tls12_derived_values_use_the_rfc_labels():
    ms, sr, cr, hh = bytes(48), b"s" * 32, b"c" * 32, b"h" * 32
    assert ks.key_block12("sha256", ms, sr, cr, 72) == ks.prf12("sha256", ms, b"key expansion", sr + cr, 72)
    assert ks.finished12("sha256", ms, True, hh) == ks.prf12("sha256", ms, b"client finished", hh, 12)
    assert ks.finished12("sha384", ms, False, hh) == ks.prf12("sha384", ms, b"server finished", hh, 12)
    assert ks.master_secret12("sha256", b"p" * 48, cr, sr) == \
        ks.prf12("sha256", b"p" * 48, b"master secret", cr + sr, 48)


def test_prf12_single_iteration_matches_hmac_definition():
    secret, seed = b"k" * 16, b"seed"
    a1 = hmac.new(secret, b"label" + seed, "sha256").digest()
    assert ks.prf12("sha256", secret, b"label", seed, 32) == \
        hmac.new(secret, a1 + b"label" + seed, "sha256").digest()


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("key_length", [0, 1, 32, 48, 64, 65, 128, 129, 300])
def test_hmac_matches_the_stdlib(hash_name, key_length):
    key, message = os.urandom(key_length), os.urandom(key_length * 3 + 1)
    expected = hmac.digest(key, message, hash_name)
    assert ks.hmac_digest(key, message, hash_name) == expected
    assert ks.hmac_digest(bytearray(key), memoryview(message), hash_name) == expected


def _reference_hkdf_expand(hash_name, prk, info, length):
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes((i,)), hash_name)
        out += block
        i += 1
    return out[:length]


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("key_length", [0, 1, 32, 48, 64, 65, 128, 129, 300])
def test_reusable_hmac_key_matches_the_stdlib(hash_name, key_length):
    """HMACKey's stored states, copied per message, give what a fresh HMAC gives, for
    every message length around the block boundaries, used many times over."""
    key = os.urandom(key_length)
    reusable = ks.HMACKey(key, hash_name)
    for info_length in (0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 129, 1000):
        info = os.urandom(info_length)
        for length in (1, 32, 48, 100):
            assert ks.hkdf_expand(hash_name, reusable, info, length) == \
                _reference_hkdf_expand(hash_name, key, info, length)


def test_hashing_runs_on_the_interpreters_libcrypto_here():
    """The fast path is what this machine's benchmarks measure: it must not fall back
    silently to hashlib objects."""
    from cyssl.crypto import sha2
    assert sha2.AVAILABLE


def test_hashlib_fallback_gives_the_same_key_schedule():
    """Where libcrypto's functions cannot be found, hashlib objects do the same work:
    this file's known answers, run again on that path."""
    env = dict(os.environ, CYSSL_HASHLIB_ONLY="1", PYTHONPATH=os.pathsep.join(sys.path))
    probe = subprocess.run([sys.executable, "-c", "from cyssl.crypto import sha2; print(sha2.AVAILABLE)"],
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "False"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                          "-k", "not fallback and not libcrypto_here"],
                         env=env, capture_output=True, text=True, cwd=os.path.dirname(__file__))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
