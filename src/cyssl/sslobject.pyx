# cython: language_level=3
"""SSLObject and MemoryBIO: TLS over memory buffers, the path asyncio drives.

``wrap_bio`` accepts cyssl's MemoryBIO and the stdlib's (asyncio makes its own). Over
memory BIOs the outgoing side never blocks, so SSLWantWriteError is never raised
(asyncio would not catch it); starved reads raise SSLWantReadError.
"""
from collections import deque

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy

from cyssl import errors
from cyssl.channel cimport TLSChannel


cdef class SSLObject(TLSChannel):
    """TLS over a pair of MemoryBIOs (``incoming``: bytes from the peer; ``outgoing``:
    bytes for the peer). Made by ``SSLContext.wrap_bio``."""
    cdef object _incoming
    cdef object _outgoing

    def __cinit__(self, context=None, bint server_side=False, server_hostname=None, owner=None,
                  session=None, incoming=None, outgoing=None):
        from cyssl.context import SSLContext
        if not isinstance(context, SSLContext):
            raise TypeError("SSLObject does not have a public constructor. Instances are "
                            "returned by SSLContext.wrap_bio().")
        self._incoming = incoming
        self._outgoing = outgoing

    @classmethod
    def _create(cls, incoming, outgoing, server_side=False, server_hostname=None, session=None,
                context=None):
        if server_side and server_hostname:
            raise ValueError("server_hostname can only be specified in client mode")
        if context.check_hostname and not server_side and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        return cls(context, server_side, server_hostname, None, session, incoming, outgoing)

    cdef int _fill(self) except -1:
        data = self._incoming.read()
        if data:
            self._feed(data)
            return 0
        if self._incoming.eof:
            if self._context._options & _IGNORE_UNEXPECTED_EOF and self._handshake_done:
                self._transport_eof = True
                return 0
            raise self._eof_failure()
        raise errors.want_read()

    cdef int _flush(self) except -1:
        if self.conn is not None and self.conn.records.outgoing_size:
            self._outgoing.write(self.conn.outgoing())
        return 0

    def unwrap(self):
        """Send close_notify; SSLWantReadError until the peer's arrives."""
        return self.shutdown()

    def __repr__(self):
        return "<cyssl.SSLObject %s>" % ("server" if self.server_side else "client")


# Smaller written bytes objects are copied into the tail: a queue of many tiny objects
# would cost more (in memory and in reads that gather them) than copying them does.
_SHARE_AT_LEAST = 1024

try:
    from ssl import OP_IGNORE_UNEXPECTED_EOF as _IGNORE_UNEXPECTED_EOF
except ImportError:
    _IGNORE_UNEXPECTED_EOF = 0x80


cdef class MemoryBIO:
    """A byte queue, the stdlib's MemoryBIO: write() appends, read() takes.

    Written ``bytes`` are queued by reference (they cannot change), and a read that takes
    exactly one queued object returns it: a record batch goes from one connection's
    outgoing BIO to the next one's incoming BIO without being copied. Other buffers
    (mutable) and small writes are copied into a bytearray at the tail.
    """
    # deque of bytes (shared) / bytearray (ours); None while empty: an idle BIO holds nothing
    cdef object _chunks
    cdef Py_ssize_t _head                 # bytes already read from _chunks[0]
    cdef Py_ssize_t _pending
    cdef bint _eof

    def __cinit__(self):
        self._chunks = None
        self._head = 0
        self._pending = 0
        self._eof = False

    @property
    def pending(self):
        return self._pending

    @property
    def eof(self):
        """True once write_eof() was called and everything was read."""
        return self._eof and self._pending == 0

    def read(self, Py_ssize_t size=-1):
        if size < 0 or size > self._pending:
            size = self._pending
        if size == 0:
            return b""
        chunks = self._chunks
        first = chunks[0]
        cdef Py_ssize_t first_len = len(first)
        if self._head == 0 and size == first_len and type(first) is bytes:
            chunks.popleft()                      # the very object written: no copy
            self._taken(size)
            return first
        cdef bytes out = PyBytes_FromStringAndSize(NULL, size)
        cdef char *dest = PyBytes_AS_STRING(out)
        cdef const unsigned char[:] piece
        cdef Py_ssize_t done = 0, take
        while done < size:
            first = chunks[0]
            piece = first
            take = min(piece.shape[0] - self._head, size - done)
            memcpy(dest + done, &piece[self._head], take)
            done += take
            self._head += take
            if self._head == piece.shape[0]:
                chunks.popleft()
                self._head = 0
        self._taken(size)
        return out

    cdef void _taken(self, Py_ssize_t size):
        self._pending -= size
        if not self._pending:
            self._chunks = None

    def write(self, data):
        if self._eof:
            raise errors.ssl_error(None, "cannot write() after write_eof()")
        cdef Py_ssize_t n
        if type(data) is bytes and PyBytes_GET_SIZE(data) >= _SHARE_AT_LEAST:
            n = PyBytes_GET_SIZE(data)
            self._queue().append(data)
        else:
            view = memoryview(data)
            if not view.c_contiguous:
                raise BufferError("memoryview: underlying buffer is not C-contiguous")
            n = view.nbytes
            if not n:
                return 0
            chunks = self._queue()
            if chunks and type(chunks[-1]) is bytearray:    # our own tail: extend it
                chunks[-1] += view
            else:
                chunks.append(bytearray(view))
        self._pending += n
        return n

    cdef object _queue(self):
        if self._chunks is None:
            self._chunks = deque()
        return self._chunks

    def write_eof(self):
        self._eof = True
