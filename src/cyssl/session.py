"""SSLSession: a TLS session as the ssl API shows it (the engine's ticket inside, when
there is one to resume)."""
import os
import time


class SSLSession:
    """A session a client can resume: pass it as ``session=`` to wrap_socket / wrap_bio."""
    __slots__ = ("_engine", "_context")

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create 'cyssl.SSLSession' instances")

    @classmethod
    def _wrap(cls, engine_session, context=None):
        self = object.__new__(cls)
        self._engine = engine_session
        self._context = context
        return self

    @property
    def id(self):
        return self._engine.id

    @property
    def time(self):
        return self._engine.received_ms // 1000

    @property
    def timeout(self):
        return self._engine.lifetime

    @classmethod
    def _unresumable(cls, tls13_server, context=None):
        """The session a finished handshake shows when it has none to resume (a server's;
        a TLS 1.3 client's before a ticket arrives): OpenSSL hands one out all the same,
        and so does the stdlib. A client given it makes a full handshake."""
        return cls._wrap(_Unresumable(os.urandom(32) if tls13_server else b""), context)

    @property
    def ticket_lifetime_hint(self):
        return self._engine.lifetime if self.has_ticket else 0

    @property
    def has_ticket(self):
        return not isinstance(self._engine, _Unresumable)

    def __eq__(self, other):
        if not isinstance(other, SSLSession):
            return NotImplemented
        return self._engine.id == other._engine.id

    def __hash__(self):
        return hash(self._engine.id)

    def __repr__(self):
        return "<cyssl.SSLSession lifetime=%ds>" % self._engine.lifetime


class _Unresumable:
    """What an SSLSession without a ticket reads (OpenSSL's values: a TLS 1.3 server
    makes up a 32-byte id, others have none; its default timeout)."""
    __slots__ = ("id", "received_ms", "lifetime")

    def __init__(self, session_id):
        self.id = session_id
        self.received_ms = int(time.time() * 1000)
        self.lifetime = 7200


def resumable(session):
    """The engine session inside ``session`` to resume, or None."""
    if session is None or not session.has_ticket:
        return None
    return session._engine
