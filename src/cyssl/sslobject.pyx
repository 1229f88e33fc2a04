# cython: language_level=3
"""SSLObject and MemoryBIO: TLS over memory buffers, the path asyncio drives.

``wrap_bio`` accepts cyssl's MemoryBIO and the stdlib's (asyncio makes its own). Over
memory BIOs the outgoing side never blocks, so SSLWantWriteError is never raised
(asyncio would not catch it); starved reads raise SSLWantReadError.
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy

from cyssl import errors
from cyssl.channel cimport TLSChannel


cdef inline Py_ssize_t _chunk_length(chunk):
    return PyBytes_GET_SIZE(chunk) if type(chunk) is bytes else PyByteArray_GET_SIZE(chunk)


cdef inline char *_chunk_data(chunk):
    return PyBytes_AS_STRING(chunk) if type(chunk) is bytes else PyByteArray_AS_STRING(chunk)


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
    (mutable), and small bytes written behind others, are copied into a bytearray at
    the tail.
    """
    # A list of bytes (shared) / bytearray (ours) from _first on; None while empty: an
    # idle BIO holds nothing. A list with an index, not a deque: cheaper to make for
    # each small message.
    cdef list _chunks
    cdef Py_ssize_t _first
    cdef Py_ssize_t _head                 # bytes already read from _chunks[_first]
    cdef Py_ssize_t _pending
    cdef bint _eof

    def __cinit__(self):
        self._chunks = None
        self._first = 0
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
        return self.take(size)

    cdef object take(self, Py_ssize_t size):
        if size < 0 or size > self._pending:
            size = self._pending
        if size == 0:
            return b""
        cdef list chunks = self._chunks
        first = chunks[self._first]
        cdef Py_ssize_t first_len = _chunk_length(first)
        if self._head == 0 and size == first_len:     # one whole chunk
            self._drop_first()
            self._taken(size)
            if type(first) is bytes:
                return first                          # the very object written: no copy
            return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(first), size)
        cdef bytes out = PyBytes_FromStringAndSize(NULL, size)
        cdef char *dest = PyBytes_AS_STRING(out)
        cdef Py_ssize_t done = 0, take
        while done < size:
            first = chunks[self._first]
            first_len = _chunk_length(first)
            take = min(first_len - self._head, size - done)
            memcpy(dest + done, _chunk_data(first) + self._head, take)
            done += take
            self._head += take
            if self._head == first_len:
                self._drop_first()
        self._taken(size)
        return out

    cdef void _drop_first(self):
        self._chunks[self._first] = None
        self._first += 1
        self._head = 0

    cdef void _taken(self, Py_ssize_t size):
        self._pending -= size
        if not self._pending:
            self._chunks = None
            self._first = 0
        elif self._first >= 32 and self._first * 2 >= len(self._chunks):
            del self._chunks[:self._first]          # a queue that never drains stays short
            self._first = 0

    def write(self, data):
        return self.put(data)

    cdef Py_ssize_t put(self, data) except -1:
        if self._eof:
            raise errors.ssl_error(None, "cannot write() after write_eof()")
        cdef Py_ssize_t n
        if type(data) is bytes:
            n = PyBytes_GET_SIZE(data)
            if n >= _SHARE_AT_LEAST or (self._chunks is None and n):
                # Large, or the only chunk (its reader takes it whole): by reference.
                self._queue().append(data)
                self._pending += n
                return n
        else:
            view = memoryview(data)
            if not view.c_contiguous:
                raise BufferError("memoryview: underlying buffer is not C-contiguous")
            n = view.nbytes
            data = view
        if not n:
            return 0
        cdef list chunks = self._queue()
        tail = chunks[-1] if len(chunks) > self._first else None
        if type(tail) is bytearray:                             # our own tail: extend it
            tail += data
        elif tail is not None and PyBytes_GET_SIZE(tail) < _SHARE_AT_LEAST:
            chunks[-1] = bytearray(tail) + data                 # a small shared tail: ours now
        else:
            chunks.append(bytearray(data))
        self._pending += n
        return n

    cdef list _queue(self):
        if self._chunks is None:
            self._chunks = []
        return self._chunks

    def write_eof(self):
        self._eof = True


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
        incoming = self._incoming
        data = ((<MemoryBIO>incoming).take(-1) if type(incoming) is MemoryBIO
                else incoming.read())
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
        if self.conn is None or not self.conn.records.has_outgoing():
            return 0
        outgoing = self._outgoing
        if type(outgoing) is MemoryBIO:
            (<MemoryBIO>outgoing).put(self.conn.outgoing())
        else:
            outgoing.write(self.conn.outgoing())
        return 0

    def unwrap(self):
        """Send close_notify; SSLWantReadError until the peer's arrives."""
        return self.shutdown()

    def __repr__(self):
        return "<cyssl.SSLObject %s>" % ("server" if self.server_side else "client")
