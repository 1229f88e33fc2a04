"""SSLSession: a resumable TLS session as the ssl API shows it (the engine's ticket inside)."""


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

    @property
    def ticket_lifetime_hint(self):
        return self._engine.lifetime

    @property
    def has_ticket(self):
        return True

    def __eq__(self, other):
        if not isinstance(other, SSLSession):
            return NotImplemented
        return self._engine.id == other._engine.id

    def __hash__(self):
        return hash(self._engine.id)

    def __repr__(self):
        return "<cyssl.SSLSession lifetime=%ds>" % self._engine.lifetime
