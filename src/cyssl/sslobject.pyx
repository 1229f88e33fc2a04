# cython: language_level=3
"""SSLObject and MemoryBIO: TLS over memory buffers, the path asyncio drives.

``wrap_bio`` accepts cyssl's MemoryBIO and the stdlib's (asyncio makes its own). Over
memory BIOs the outgoing side never blocks, so SSLWantWriteError is never raised
(asyncio would not catch it); starved reads raise SSLWantReadError.
"""
from cpython.bytearray cimport PyByteArray_GET_SIZE

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


try:
    from ssl import OP_IGNORE_UNEXPECTED_EOF as _IGNORE_UNEXPECTED_EOF
except ImportError:
    _IGNORE_UNEXPECTED_EOF = 0x80


cdef class MemoryBIO:
    """A growable byte queue, the stdlib's MemoryBIO: write() appends, read() takes."""
    cdef bytearray _buf
    cdef Py_ssize_t _start
    cdef bint _eof

    def __cinit__(self):
        self._buf = bytearray()
        self._start = 0
        self._eof = False

    @property
    def pending(self):
        return PyByteArray_GET_SIZE(self._buf) - self._start

    @property
    def eof(self):
        """True once write_eof() was called and everything was read."""
        return self._eof and self.pending == 0

    def read(self, Py_ssize_t size=-1):
        cdef Py_ssize_t avail = PyByteArray_GET_SIZE(self._buf) - self._start
        if size < 0 or size > avail:
            size = avail
        cdef bytes data = bytes(self._buf[self._start:self._start + size])
        self._start += size
        if self._start == PyByteArray_GET_SIZE(self._buf):
            del self._buf[:]
            self._start = 0
        return data

    def write(self, data):
        if self._eof:
            raise errors.ssl_error(None, "cannot write() after write_eof()")
        view = memoryview(data)
        if not view.c_contiguous:
            raise BufferError("memoryview: underlying buffer is not C-contiguous")
        if self._start > 65536:
            del self._buf[:self._start]
            self._start = 0
        self._buf += view
        return view.nbytes

    def write_eof(self):
        self._eof = True
