# cython: language_level=3
"""Key derivation: HKDF and the TLS 1.3 key schedule (RFC 8446 section 7), the TLS 1.2
PRF with the extended master secret (RFC 5246 section 5, RFC 7627), and the running
transcript hash.

HMAC is computed here from hash states (RFC 2104) rather than with ``hmac.digest``:
OpenSSL 3's one-shot HMAC looks its algorithm up on every call, which costs more than
the hashing itself for the short inputs of a key schedule. The states are libcrypto's,
driven from C (``cyssl.crypto.sha2``), or ``hashlib`` objects where that is not
available. Secrets are plain bytes handed to the caller; nothing here has a repr, log
line or error message that shows one.
"""
cimport cython
import hashlib

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy

from cyssl.crypto.sha2 cimport HashState

from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport INTERNAL_ERROR

HASH_LENGTHS = {"sha256": 32, "sha384": 48}
_HASH_CONSTRUCTORS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}
_EMPTY_HASHES = {name: ctor(b"").digest() for name, ctor in _HASH_CONSTRUCTORS.items()}


cdef bytes _prepared_key(key, HashState state):
    """The HMAC key as RFC 2104 uses it for ``state``'s hash: hashed first if longer
    than a block."""
    cdef bytes k = key if type(key) is bytes else bytes(key)
    cdef HashState h
    if PyBytes_GET_SIZE(k) > state.block_size:
        h = HashState(state.name)
        h.update_bytes(k)
        return h.digest()
    return k


cdef int _absorb_padded_key(HashState state, bytes key, unsigned char pad) except -1:
    """Feeds the key (at most one block), zero-padded to the block size and xored with
    ``pad``, to ``state``."""
    cdef unsigned char block[128]
    cdef Py_ssize_t n = PyBytes_GET_SIZE(key), i
    cdef const unsigned char *kp = <const unsigned char *>PyBytes_AS_STRING(key)
    for i in range(state.block_size):
        block[i] = (kp[i] if i < n else 0) ^ pad
    return state.update(block, state.block_size)


cdef bytes _hmac(key, msg, str hash_name):
    """HMAC(key, msg) = H((K ^ opad) || H((K ^ ipad) || msg)), for a key used once."""
    cdef HashState state = HashState(hash_name)
    cdef bytes k = _prepared_key(key, state)
    cdef unsigned char inner[48]
    cdef bytes out = PyBytes_FromStringAndSize(NULL, state.digest_size)
    _absorb_padded_key(state, k, 0x36)
    state.update_bytes(msg)
    state.finish_into(inner)
    state.reset()
    _absorb_padded_key(state, k, 0x5C)
    state.update(inner, state.digest_size)
    state.finish_into(<unsigned char *>PyBytes_AS_STRING(out))
    return out


@cython.no_gc          # holds no object that could refer back to it
cdef class HMACKey:
    """An HMAC key used several times (a secret that derives several others): the
    hash states after the padded key are computed once and copied for each message."""

    def __cinit__(self, key, str hash_name):
        self._inner = HashState(hash_name)
        self._outer = HashState(hash_name)
        self._work = HashState(hash_name, False)
        cdef bytes k = _prepared_key(key, self._inner)
        _absorb_padded_key(self._inner, k, 0x36)
        _absorb_padded_key(self._outer, k, 0x5C)
        self.hash_name = hash_name
        self.hash_length = self._inner.digest_size

    cdef bytes mac(self, msg):
        cdef HashState work = self._work
        cdef unsigned char inner[48]
        cdef bytes out = PyBytes_FromStringAndSize(NULL, self.hash_length)
        work.copy_from(self._inner)
        work.update_bytes(msg)
        work.finish_into(inner)
        work.copy_from(self._outer)
        work.update(inner, self.hash_length)
        work.finish_into(<unsigned char *>PyBytes_AS_STRING(out))
        return out

    cdef bytes expand_label(self, label, context, Py_ssize_t length):
        """HKDF-Expand-Label with this key as the PRK, for outputs of at most one hash
        length (all TLS 1.3 uses)."""
        if length > self.hash_length:
            return hkdf_expand(self.hash_name, self, _label_info(label, context, length), length)
        return self.mac(_label_info_block1(label, context, length))[:length]


cdef HMACKey _as_key(secret, str hash_name):
    """``secret`` as an HMACKey: itself if it is one, else its HMAC states made now."""
    return secret if isinstance(secret, HMACKey) else HMACKey(secret, hash_name)


def hmac_digest(key, msg, str hash_name):
    """HMAC with a hashlib name ("sha256" or "sha384"); bytes."""
    return _hmac(key, msg, hash_name)


cdef int _hash_length(str hash_name) except -1:
    try:
        return HASH_LENGTHS[hash_name]
    except KeyError:
        raise ValueError("unsupported hash %r" % hash_name) from None


def empty_hash(str hash_name):
    """Hash of the empty string: the context of Derive-Secret(., "derived", "")."""
    return _EMPTY_HASHES[hash_name]


def transcript_hash(str hash_name, data):
    return _HASH_CONSTRUCTORS[hash_name](data).digest()


cpdef bytes hkdf_extract(str hash_name, salt, ikm):
    """HKDF-Extract (RFC 5869); an empty salt or IKM means HashLen zero bytes."""
    cdef int n = _hash_length(hash_name)
    if not salt:
        salt = bytes(n)
    if not ikm:
        ikm = bytes(n)
    return _hmac(salt, ikm, hash_name)


cpdef bytes hkdf_expand(str hash_name, prk, info, Py_ssize_t length):
    """HKDF-Expand (RFC 5869): T(i) = HMAC(PRK, T(i-1) || info || i). ``prk`` is the
    key's bytes or an HMACKey."""
    cdef int n = _hash_length(hash_name)
    if length < 0 or length > 255 * n:
        raise ValueError("HKDF-Expand length out of range")
    cdef HMACKey key = _as_key(prk, hash_name)
    cdef bytes info_bytes = bytes(info)
    cdef bytearray out = bytearray()
    cdef bytes block = b""
    cdef int i = 1
    while len(out) < length:
        block = key.mac(block + info_bytes + bytes((i,)))
        out += block
        i += 1
    return bytes(out[:length])


cdef bytes _label_info(label, context, Py_ssize_t length):
    """HkdfLabel: uint16 length || opaque "tls13 " + label<7..255> || opaque
    context<0..255> (RFC 8446 section 7.1)."""
    cdef bytes info = _label_info_block1(label, context, length)
    return info[:PyBytes_GET_SIZE(info) - 1]


cdef bytes _label_info_block1(label, context, Py_ssize_t length):
    """HkdfLabel followed by HKDF-Expand's first block counter (0x01), built in one
    allocation: the one HMAC input of a single-block expansion."""
    cdef bytes lab = label if type(label) is bytes else bytes(label)
    cdef bytes ctx = context if type(context) is bytes else bytes(context)
    cdef Py_ssize_t n_label = PyBytes_GET_SIZE(lab) + 6, n_ctx = PyBytes_GET_SIZE(ctx)
    if n_label > 255 or n_ctx > 255 or length > 0xFFFF or length < 0:
        raise ValueError("HKDF label, context or length too long")
    cdef bytes info = PyBytes_FromStringAndSize(NULL, 2 + 1 + n_label + 1 + n_ctx + 1)
    cdef unsigned char *p = <unsigned char *>PyBytes_AS_STRING(info)
    p[0] = length >> 8
    p[1] = length & 0xFF
    p[2] = n_label
    memcpy(p + 3, b"tls13 ", 6)
    memcpy(p + 9, PyBytes_AS_STRING(lab), n_label - 6)
    p[3 + n_label] = n_ctx
    memcpy(p + 4 + n_label, PyBytes_AS_STRING(ctx), n_ctx)
    p[4 + n_label + n_ctx] = 1
    return info


cpdef bytes hkdf_expand_label(str hash_name, secret, label, context, Py_ssize_t length):
    """HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 section 7.1);
    ``secret`` is bytes or an HMACKey."""
    if isinstance(secret, HMACKey):
        return (<HMACKey>secret).expand_label(label, context, length)
    if length <= _hash_length(hash_name):
        return _hmac(secret, _label_info_block1(label, context, length), hash_name)[:length]
    return hkdf_expand(hash_name, secret, _label_info(label, context, length), length)


cpdef bytes derive_secret(str hash_name, secret, label, transcript_hash):
    """Derive-Secret(Secret, Label, Messages), given Transcript-Hash(Messages)."""
    return hkdf_expand_label(hash_name, secret, label, transcript_hash, _hash_length(hash_name))


def traffic_key_iv(str hash_name, secret, int key_length, int iv_length):
    """The write key and IV of a traffic secret (RFC 8446 section 7.3); ``secret`` is
    bytes or an HMACKey."""
    cdef HMACKey key = _as_key(secret, hash_name)
    return key.expand_label(b"key", b"", key_length), key.expand_label(b"iv", b"", iv_length)


def finished_key(str hash_name, base_key):
    """finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)."""
    return hkdf_expand_label(hash_name, base_key, b"finished", b"", _hash_length(hash_name))


def finished_verify_data(str hash_name, finished_key, transcript_hash):
    """verify_data = HMAC(finished_key, Transcript-Hash(...)) (RFC 8446 section 4.4.4).
    Compare it with hmac.compare_digest, never ==."""
    return _hmac(finished_key, transcript_hash, hash_name)


def next_traffic_secret(str hash_name, secret):
    """application_traffic_secret_N+1 for KeyUpdate (RFC 8446 section 7.2)."""
    return hkdf_expand_label(hash_name, secret, b"traffic upd", b"", _hash_length(hash_name))


def resumption_psk(str hash_name, resumption_master_secret, ticket_nonce):
    """The PSK a NewSessionTicket stands for (RFC 8446 section 4.6.1)."""
    return hkdf_expand_label(hash_name, resumption_master_secret, b"resumption", ticket_nonce,
                             _hash_length(hash_name))


def export_keying_material(str hash_name, exporter_master_secret, label, context, Py_ssize_t length):
    """TLS-Exporter(label, context_value, key_length) (RFC 8446 section 7.5)."""
    secret = derive_secret(hash_name, exporter_master_secret, label, _EMPTY_HASHES[hash_name])
    ctx_hash = _HASH_CONSTRUCTORS[hash_name](bytes(context or b"")).digest()
    return hkdf_expand_label(hash_name, secret, b"exporter", ctx_hash, length)


# TLS 1.2 (RFC 5246 section 5; RFC 7627).

cpdef bytes prf12(str hash_name, secret, label, seed, Py_ssize_t length):
    """PRF(secret, label, seed) = P_hash(secret, label + seed), truncated to ``length``;
    ``secret`` is bytes or an HMACKey."""
    _hash_length(hash_name)
    cdef HMACKey key = _as_key(secret, hash_name)
    cdef bytes label_seed = bytes(label) + bytes(seed)
    cdef bytes a = label_seed
    cdef bytearray out = bytearray()
    while len(out) < length:
        a = key.mac(a)
        out += key.mac(a + label_seed)
    return bytes(out[:length])


def master_secret12(str hash_name, pre_master_secret, client_random, server_random):
    """The RFC 5246 master secret (only for peers without extended master secret)."""
    return prf12(hash_name, pre_master_secret, b"master secret",
                 bytes(client_random) + bytes(server_random), 48)


def extended_master_secret12(str hash_name, pre_master_secret, session_hash):
    """The RFC 7627 master secret, bound to the handshake's session hash."""
    return prf12(hash_name, pre_master_secret, b"extended master secret", session_hash, 48)


def key_block12(str hash_name, master_secret, server_random, client_random, Py_ssize_t length):
    return prf12(hash_name, master_secret, b"key expansion",
                 bytes(server_random) + bytes(client_random), length)


def export_keying_material12(str hash_name, master_secret, label, client_random, server_random,
                             context, Py_ssize_t length):
    """RFC 5705: PRF(master_secret, label, client_random + server_random
    [+ uint16 context length + context])."""
    seed = bytes(client_random) + bytes(server_random)
    if context is not None:
        if len(context) > 0xFFFF:
            raise ValueError("exporter context too long")
        seed += len(context).to_bytes(2, "big") + bytes(context)
    return prf12(hash_name, master_secret, label, seed, length)


def finished12(str hash_name, master_secret, bint from_client, handshake_hash):
    """TLS 1.2 Finished verify_data (12 bytes)."""
    return prf12(hash_name, master_secret, b"client finished" if from_client else b"server finished",
                 handshake_hash, 12)


@cython.no_gc          # holds no object that could refer back to it
cdef class Transcript:
    """The running hash of the handshake messages.

    Messages may arrive before the hash is known (the ClientHello precedes the cipher
    suite choice): they are kept until ``select_hash``. ``digest()`` is a snapshot;
    the running hash goes on.
    """

    def __cinit__(self, str hash_name=None):
        self._pending = []
        self._hash = None
        self.hash_name = None
        if hash_name is not None:
            self.select_hash(hash_name)

    def select_hash(self, str hash_name):
        if self._hash is not None:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "transcript hash already chosen")
        self._hash = HashState(hash_name)
        self.hash_name = hash_name
        for data in self._pending:
            self._hash.update_bytes(data)
        self._pending = None

    cpdef update(self, data):
        if self._hash is None:
            self._pending.append(bytes(data))
        else:
            self._hash.update_bytes(data)

    cpdef bytes digest(self):
        if self._hash is None:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "transcript hash not chosen yet")
        return self._hash.digest()          # a snapshot: the hash goes on

    def restart_with_message_hash(self):
        """After a HelloRetryRequest: the transcript so far (ClientHello1) becomes the
        synthetic message_hash message (RFC 8446 section 4.4.1)."""
        cdef bytes h = self.digest()
        self._hash.reset()
        self._hash.update_bytes(bytes((254, 0, 0, len(h))) + h)

    def copy(self):
        cdef Transcript other = Transcript.__new__(Transcript)
        other.hash_name = self.hash_name
        if self._hash is None:
            other._pending = list(self._pending)
        else:
            other._hash = self._hash.copy()
            other._pending = None
        return other


# HKDF-Extract with no salt keys its HMAC with HashLen zero bytes: those states, per hash.
_ZERO_SALT_KEYS = {name: HMACKey(bytes(n), name) for name, n in HASH_LENGTHS.items()}
# Without a PSK the early secret, and the salt derived from it, are constants per hash.
_EARLY_SECRETS_WITHOUT_PSK = {name: hkdf_extract(name, b"", b"") for name in HASH_LENGTHS}
_HANDSHAKE_SALTS_WITHOUT_PSK = {
    name: derive_secret(name, secret, b"derived", _EMPTY_HASHES[name])
    for name, secret in _EARLY_SECRETS_WITHOUT_PSK.items()}


# Stages of the TLS 1.3 schedule: each secret replaces the one before it.
cdef enum Stage:
    EARLY = 0
    HANDSHAKE = 1
    MASTER = 2


@cython.no_gc          # holds no object that could refer back to it
cdef class KeySchedule:
    """The TLS 1.3 key schedule for one connection (RFC 8446 section 7.1).

    ``KeySchedule(hash_name, psk=None)`` computes the early secret;
    ``derive_handshake_secret(shared)`` and ``derive_master_secret()`` move it on.
    Traffic secrets are derived from the current stage's secret and a transcript hash.
    """

    def __cinit__(self, str hash_name, psk=None):
        self.hash_name = hash_name
        self.hash_length = _hash_length(hash_name)
        self._empty_hash = _EMPTY_HASHES[hash_name]
        self._without_psk = not psk
        if self._without_psk:
            self._set_secret(_EARLY_SECRETS_WITHOUT_PSK[hash_name])
        else:           # HKDF-Extract(salt = HashLen zeros, PSK): the salt's states are kept
            self._set_secret((<HMACKey>_ZERO_SALT_KEYS[hash_name]).mac(psk))
        self._stage = EARLY

    cdef _set_secret(self, bytes secret):
        # Each stage's secret derives two to five others: keep it as an HMACKey.
        self._secret = secret
        self._key = HMACKey(secret, self.hash_name)

    cdef int _require(self, int stage) except -1:
        if self._stage != stage:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "key schedule used out of order")
        return 0

    @property
    def secret(self):
        """The current stage's secret (early, handshake or master)."""
        return self._secret

    def binder_key(self, bint external=False):
        """binder_key for PSK binders: "ext binder" or "res binder"."""
        self._require(EARLY)
        return derive_secret(self.hash_name, self._key,
                             b"ext binder" if external else b"res binder", self._empty_hash)

    def binder(self, transcript_hash, bint external=False):
        """The PSK binder (RFC 8446 4.2.11.2): a Finished MAC under the binder key, over
        the hash of the ClientHello truncated before the binders."""
        return finished_verify_data(self.hash_name,
                                    finished_key(self.hash_name, self.binder_key(external)),
                                    transcript_hash)

    def derive_handshake_secret(self, shared_secret):
        self._require(EARLY)
        if self._without_psk:
            salt = _HANDSHAKE_SALTS_WITHOUT_PSK[self.hash_name]
        else:
            salt = derive_secret(self.hash_name, self._key, b"derived", self._empty_hash)
        self._set_secret(hkdf_extract(self.hash_name, salt, shared_secret))
        self._stage = HANDSHAKE

    def handshake_traffic_secrets(self, transcript_hash):
        """(client, server) handshake traffic secrets, at ServerHello."""
        self._require(HANDSHAKE)
        return (derive_secret(self.hash_name, self._key, b"c hs traffic", transcript_hash),
                derive_secret(self.hash_name, self._key, b"s hs traffic", transcript_hash))

    def derive_master_secret(self):
        self._require(HANDSHAKE)
        salt = derive_secret(self.hash_name, self._key, b"derived", self._empty_hash)
        self._set_secret(hkdf_extract(self.hash_name, salt, b""))
        self._stage = MASTER

    def application_traffic_secrets(self, transcript_hash):
        """(client, server) application traffic secrets 0, at server Finished."""
        self._require(MASTER)
        return (derive_secret(self.hash_name, self._key, b"c ap traffic", transcript_hash),
                derive_secret(self.hash_name, self._key, b"s ap traffic", transcript_hash))

    def exporter_master_secret(self, transcript_hash):
        self._require(MASTER)
        return derive_secret(self.hash_name, self._key, b"exp master", transcript_hash)

    def resumption_master_secret(self, transcript_hash):
        """At client Finished."""
        self._require(MASTER)
        return derive_secret(self.hash_name, self._key, b"res master", transcript_hash)
