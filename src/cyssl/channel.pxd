from cpython.bytes cimport PyBytes_GET_SIZE

from cyssl.tls.connection cimport Connection


cdef inline Py_ssize_t byte_count(data) except -1:
    """len() in bytes of any bytes-like object (bytes without making a memoryview)."""
    if type(data) is bytes:
        return PyBytes_GET_SIZE(data)
    return memoryview(data).nbytes


cdef class TLSChannel:
    cdef object _context
    cdef readonly Connection conn
    cdef readonly bint server_side
    cdef object _server_hostname
    cdef public object owner
    cdef object _session
    cdef bint _handshake_done
    cdef bint _transport_eof
    cdef bint _failed                     # an error was reported: OpenSSL's error state
    cdef bint _close_reported             # a close_notify during the handshake was reported

    cdef Connection _engine(self)
    cdef int _fill(self) except -1
    cdef Py_ssize_t _fill_into(self, Connection conn, object view, Py_ssize_t room) except -1
    cdef int _flush(self) except -1
    cdef int _feed(self, data) except -1
    cdef int _handshake(self) except -1
    cdef object _failure(self, error)
    cdef object _engine_failure(self, err)
    cdef object _eof_failure(self)
    cdef object _after_failure(self, int op)
    cdef object _failed_handshake(self)
    cdef int _check_writable(self) except -1
