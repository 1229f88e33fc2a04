# cython: language_level=3
"""SSLObject and MemoryBIO: TLS over memory buffers, the path asyncio drives.

``wrap_bio`` accepts cyssl's MemoryBIO and the stdlib's (asyncio makes its own). Over
memory BIOs the outgoing side never blocks, so SSLWantWriteError is never raised
(asyncio would not catch it); starved reads raise SSLWantReadError.
"""
cimport cython
from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

from cyssl import errors
from cyssl.channel cimport WOULD_BLOCK, TLSChannel
from cyssl.tls.bytequeue cimport SHARE_AT_LEAST, ByteQueue


try:
    from ssl import OP_IGNORE_UNEXPECTED_EOF as _IGNORE_UNEXPECTED_EOF
except ImportError:
    _IGNORE_UNEXPECTED_EOF = 0x80


@cython.auto_pickle(False)    # as the stdlib's: a queue of in-flight bytes is no value
cdef class MemoryBIO(ByteQueue):
    """A byte queue, the stdlib's MemoryBIO: write() appends, read() takes.

    Written ``bytes`` are queued by reference (they cannot change), and a read that takes
    exactly one queued object returns it: a record batch goes from one connection's
    outgoing BIO to the next one's incoming BIO without being copied. Other buffers
    (mutable), and small bytes written behind others, are copied into the tail.
    """
    cdef bint _eof

    @property
    def pending(self):
        return self.size

    @property
    def eof(self):
        """True once write_eof() was called and everything was read."""
        return self._eof and self.size == 0

    def read(self, Py_ssize_t size=-1):
        return self.take(size)

    def write(self, data):
        return self.put(data)

    cdef Py_ssize_t put(self, data) except -1:
        if self._eof:
            raise errors.ssl_error(None, "cannot write() after write_eof()")
        cdef Py_ssize_t n
        cdef Py_buffer view
        if type(data) is bytes:
            n = PyBytes_GET_SIZE(data)
            if n >= SHARE_AT_LEAST or (self.size == 0 and n):
                # Large, or the only chunk (its reader takes it whole): by reference.
                self.append(data, n)
            else:
                self.append_copy(PyBytes_AS_STRING(data), n)
            return n
        PyObject_GetBuffer(data, &view, PyBUF_C_CONTIGUOUS)
        try:
            self.append_copy(<char*>view.buf, view.len)
            return view.len
        finally:
            PyBuffer_Release(&view)

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
        return WOULD_BLOCK

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
