from cyssl.tls.connection cimport Connection


cdef enum:
    WOULD_BLOCK = -2        # _fill: the transport has nothing now (_fill_into: nothing came)


cdef class TLSChannel:
    cdef object _context
    cdef readonly Connection conn
    cdef readonly bint server_side
    cdef object _server_hostname
    cdef object _owner                    # None: this object is its own owner
    cdef object _session
    cdef object _shown_session            # what .session shows when there is none to resume
    cdef bint _handshake_done
    cdef bint _transport_eof
    cdef bint _failed                     # an error was reported: OpenSSL's error state
    cdef bint _close_reported             # a close_notify during the handshake was reported

    cdef Connection _engine(self)
    cdef int _fill(self) except -1
    cdef Py_ssize_t _fill_into(self, Connection conn, object owner, unsigned char* dest,
                               Py_ssize_t room, bint nul_after) except -1
    cdef object _read(self, Py_ssize_t len, object buffer, Py_buffer* dest)
    cdef bint _may_fill(self, Connection conn) except -1
    cdef int _raise_left_error(self, Connection conn) except -1
    cdef int _flush(self) except -1
    cdef int _flush_now(self) except -1
    cdef int _answer(self) except -1
    cdef int _feed(self, data) except -1
    cdef int _handshake(self) except -1
    cdef object _failure(self, error)
    cdef object _engine_failure(self, err)
    cdef object _eof_failure(self)
    cdef object _after_failure(self, int op)
    cdef object _failed_handshake(self)
    cdef int _check_writable(self) except -1
    cdef Py_ssize_t _send_app_data(self, data) except -1
