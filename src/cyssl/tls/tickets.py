"""Session tickets: the server seals resumption state into the ticket itself (stateless,
RFC 5077 / RFC 8446 4.6.1) under a per-context key that rotates; the client keeps what it
needs to resume in a ``Session``.
"""
import os
import threading
import time

from cyssl.crypto.aead import AES_256_GCM, InvalidTag
from cyssl.tls.codec import Reader, Writer
from cyssl.tls.errors import TLSError

_FORMAT_VERSION = 1
_KEY_ID_LENGTH = 16
_NONCE_LENGTH = 12


def _write_name_and_chain(w, server_name, chain):
    """The tail both ticket formats share: the host name and the peer's DER chain."""
    # UTF-8: the name comes back exactly as it went in (an IDNA codec would turn an
    # A-label into a U-label on the way back, and it is slow).
    w.vec16(server_name.encode("utf-8") if server_name else b"")
    mark = w.begin(3)
    for der in chain:
        w.vec24(der)
    w.end(mark, 3)


def _read_name_and_chain(r):
    server_name = r.vec16().decode("utf-8")
    chain_reader = r.sub24()
    chain = []
    while not chain_reader.at_end():
        chain.append(chain_reader.vec24())
    r.expect_end()
    return server_name, chain


class TicketKeys:
    """The keys a server context seals tickets with. A new key every ``rotate_after``
    seconds; tickets under the previous key still open until it too expires, so a
    ticket stays usable for its whole lifetime (at most two rotation periods)."""

    def __init__(self, rotate_after=12 * 3600, clock=time.time):
        self._lock = threading.Lock()
        self._clock = clock
        self.rotate_after = rotate_after
        self._current = self._new_key()
        self._previous = None

    def _new_key(self):
        return (os.urandom(_KEY_ID_LENGTH), AES_256_GCM.new(os.urandom(32)), self._clock())

    def _rotate_if_due(self):
        with self._lock:
            if self._clock() - self._current[2] >= self.rotate_after:
                self._previous, self._current = self._current, self._new_key()

    def seal(self, state: bytes) -> bytes:
        self._rotate_if_due()
        key_id, aead, _ = self._current
        nonce = os.urandom(_NONCE_LENGTH)
        return key_id + nonce + aead.encrypt(nonce, state, key_id)

    def is_current(self, ticket: bytes) -> bool:
        """Whether ``ticket`` names the current key (else it dies with the previous one)."""
        return ticket[:_KEY_ID_LENGTH] == self._current[0]

    def open(self, ticket: bytes):
        """The sealed state, or None for a ticket we cannot (or no longer) open."""
        self._rotate_if_due()
        if len(ticket) < _KEY_ID_LENGTH + _NONCE_LENGTH + 16:
            return None
        key_id = ticket[:_KEY_ID_LENGTH]
        for candidate in (self._current, self._previous):
            if candidate is None or candidate[0] != key_id:
                continue
            if self._clock() - candidate[2] >= 2 * self.rotate_after:
                return None
            nonce = ticket[_KEY_ID_LENGTH:_KEY_ID_LENGTH + _NONCE_LENGTH]
            try:
                return candidate[1].decrypt(nonce, ticket[_KEY_ID_LENGTH + _NONCE_LENGTH:], key_id)
            except InvalidTag:
                return None
        return None


class TicketState:
    """What a TLS 1.3 ticket carries, sealed, from the server to itself."""
    __slots__ = ("suite", "psk", "issued_ms", "age_add", "lifetime", "alpn", "server_name",
                 "peer_chain")

    def __init__(self, suite, psk, issued_ms, age_add, lifetime, alpn, server_name, peer_chain):
        self.suite = suite
        self.psk = psk
        self.issued_ms = issued_ms
        self.age_add = age_add
        self.lifetime = lifetime
        self.alpn = alpn or b""
        self.server_name = server_name or ""
        self.peer_chain = peer_chain or []

    def encode(self):
        w = Writer()
        w.u8(_FORMAT_VERSION)
        w.u16(self.suite)
        w.vec8(self.psk)
        w.u32(self.issued_ms >> 32)
        w.u32(self.issued_ms & 0xFFFFFFFF)
        w.u32(self.age_add)
        w.u32(self.lifetime)
        w.vec8(self.alpn)
        _write_name_and_chain(w, self.server_name, self.peer_chain)
        return w.getvalue()

    @classmethod
    def decode(cls, data):
        """None for anything malformed: a ticket we cannot read means a full handshake."""
        try:
            r = Reader(data)
            if r.u8() != _FORMAT_VERSION:
                return None
            suite = r.u16()
            psk = r.vec8()
            issued = (r.u32() << 32) | r.u32()
            age_add, lifetime = r.u32(), r.u32()
            alpn = r.vec8()
            server_name, chain = _read_name_and_chain(r)
        except (TLSError, UnicodeError):
            return None
        return cls(suite, psk, issued, age_add, lifetime, alpn, server_name, chain)


class Session:
    """A client's TLS 1.3 resumption ticket with what it resumes (SSLSession's engine side)."""
    __slots__ = ("ticket", "psk", "suite", "lifetime", "age_add", "received_ms", "alpn",
                 "server_name", "peer_chain", "verified_chain", "id")

    def __init__(self, ticket, psk, suite, lifetime, age_add, received_ms, alpn, server_name,
                 peer_chain, verified_chain=()):
        self.ticket = ticket
        self.psk = psk
        self.suite = suite
        self.lifetime = lifetime
        self.age_add = age_add
        self.received_ms = received_ms
        self.alpn = alpn
        self.server_name = server_name
        self.peer_chain = peer_chain
        self.verified_chain = list(verified_chain)
        self.id = os.urandom(32)             # SSLSession.id: ours, never the ticket

    def obfuscated_age(self, now_ms):
        return (now_ms - self.received_ms + self.age_add) & 0xFFFFFFFF

    def usable(self, now_ms):
        return 0 <= now_ms - self.received_ms < self.lifetime * 1000

    def __repr__(self):
        return "<cyssl Session suite=%#06x lifetime=%ds>" % (self.suite, self.lifetime)


class Session12:
    """A client's TLS 1.2 session: resumable by session ID or by ticket (RFC 5077)."""
    __slots__ = ("session_id", "ticket", "master_secret", "suite", "extended_master_secret",
                 "lifetime", "received_ms", "alpn", "server_name", "peer_chain", "verified_chain", "id")

    def __init__(self, session_id, ticket, master_secret, suite, extended_master_secret, lifetime,
                 received_ms, alpn, server_name, peer_chain, verified_chain):
        self.session_id = session_id
        self.ticket = ticket
        self.master_secret = master_secret
        self.suite = suite
        self.extended_master_secret = extended_master_secret
        self.lifetime = lifetime or 7200
        self.received_ms = received_ms
        self.alpn = alpn
        self.server_name = server_name
        self.peer_chain = peer_chain
        self.verified_chain = list(verified_chain)
        self.id = session_id or os.urandom(32)

    def usable(self, now_ms):
        return 0 <= now_ms - self.received_ms < self.lifetime * 1000

    def __repr__(self):
        return "<cyssl Session12 suite=%#06x>" % self.suite


_FORMAT_VERSION_12 = 2


class TicketState12:
    """What a TLS 1.2 ticket (or session cache entry) carries: the master secret and what
    it was agreed for."""
    __slots__ = ("suite", "master_secret", "extended_master_secret", "issued_ms", "lifetime",
                 "server_name", "peer_chain", "verified")

    def __init__(self, suite, master_secret, extended_master_secret, issued_ms, lifetime,
                 server_name, peer_chain, verified):
        self.suite = suite
        self.master_secret = master_secret
        self.extended_master_secret = extended_master_secret
        self.issued_ms = issued_ms
        self.lifetime = lifetime
        self.server_name = server_name or ""
        self.peer_chain = peer_chain or []
        self.verified = verified

    def expired(self, now_ms):
        return not 0 <= now_ms - self.issued_ms < self.lifetime * 1000

    def encode(self):
        w = Writer()
        w.u8(_FORMAT_VERSION_12)
        w.u16(self.suite)
        w.vec8(self.master_secret)
        w.u8((1 if self.extended_master_secret else 0) | (2 if self.verified else 0))
        w.u32(self.issued_ms >> 32)
        w.u32(self.issued_ms & 0xFFFFFFFF)
        w.u32(self.lifetime)
        _write_name_and_chain(w, self.server_name, self.peer_chain)
        return w.getvalue()

    @classmethod
    def decode(cls, data):
        try:
            r = Reader(data)
            if r.u8() != _FORMAT_VERSION_12:
                return None
            suite = r.u16()
            master_secret = r.vec8()
            flags = r.u8()
            issued = (r.u32() << 32) | r.u32()
            lifetime = r.u32()
            server_name, chain = _read_name_and_chain(r)
        except (TLSError, UnicodeError):
            return None
        return cls(suite, master_secret, bool(flags & 1), issued, lifetime, server_name, chain,
                   bool(flags & 2))


class SessionCache:
    """A server's TLS 1.2 sessions by ID: bounded, oldest dropped first, thread-safe."""

    def __init__(self, capacity=20480):
        from collections import OrderedDict
        self._entries = OrderedDict()
        self._lock = threading.Lock()
        self.capacity = capacity

    def put(self, session_id, state):
        with self._lock:
            self._entries[bytes(session_id)] = state
            self._entries.move_to_end(bytes(session_id))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def get(self, session_id):
        with self._lock:
            return self._entries.get(bytes(session_id))

    def __len__(self):
        return len(self._entries)
