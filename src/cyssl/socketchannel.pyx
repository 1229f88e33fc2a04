# cython: language_level=3
"""SocketChannel: a TLSChannel whose transport is the SSLSocket's own socket.

It keeps the stdlib's contract (OpenSSL's SSL_do_handshake(3) in Python terms): on a
non-blocking socket the operations raise SSLWantReadError / SSLWantWriteError and keep
unsent bytes, so a retry continues exactly where it stopped and nothing is lost or sent
twice; on a blocking socket they block; with a timeout the socket's timeout error rises.
"""
import os
import socket as _socket
from time import monotonic as _monotonic

from cpython.bytearray cimport PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.exc cimport PyErr_CheckSignals
from cpython.pythread cimport (NOWAIT_LOCK, PY_LOCK_ACQUIRED, PY_LOCK_INTR, PyLockStatus,
                               PyThread_acquire_lock, PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_get_thread_ident, PyThread_release_lock, PyThread_type_lock)

from cyssl import errors
from cyssl.channel cimport WOULD_BLOCK, TLSChannel

_recv = _socket.socket.recv
_send = _socket.socket.send
_write = os.write
_fileno = _socket.socket.fileno
_timeout = _socket.timeout                 # TimeoutError since 3.10, its own class before
_WRITE_FIRST = os.name == "posix"          # os.write takes a socket's descriptor there
cdef int _DONTWAIT = getattr(_socket, "MSG_DONTWAIT", 0)   # 0: no such flag (Windows)


cdef extern from "pythread.h":
    PyLockStatus PyThread_acquire_lock_timed(PyThread_type_lock lock, long long microseconds,
                                             int intr_flag) nogil
    long long PY_TIMEOUT_MAX        # longer waits abort the process (Windows: ~49 days)


cdef class SocketChannel(TLSChannel):
    cdef object _sock
    cdef bytearray _unsent
    cdef Py_ssize_t _write_owed
    cdef PyThread_type_lock _send_lock         # held by the thread in _send_pending
    cdef long _sender                          # that thread's ident (0: none)
    cdef PyThread_type_lock _write_lock        # held by the thread in write()
    cdef long _writer                          # that thread's ident (0: none)

    def __cinit__(self, context=None, bint server_side=False, server_hostname=None, owner=None,
                  session=None, sock=None):
        self._sock = sock
        self._unsent = bytearray()
        self._write_owed = 0
        self._sender = self._writer = 0
        self._send_lock = PyThread_allocate_lock()
        self._write_lock = PyThread_allocate_lock()
        if self._send_lock == NULL or self._write_lock == NULL:
            raise MemoryError()

    def __dealloc__(self):
        if self._send_lock != NULL:
            PyThread_free_lock(self._send_lock)
        if self._write_lock != NULL:
            PyThread_free_lock(self._write_lock)

    cdef int _flush(self) except -1:
        return self._send_pending(True, True)

    cdef int _flush_now(self) except -1:
        if not PyByteArray_GET_SIZE(self._unsent) and (self.conn is None
                                                       or not self.conn.records.has_outgoing()):
            return 0
        if not _DONTWAIT and self._sock.gettimeout() != 0:
            # No way to send without waiting on a blocking socket or one with a timeout
            # (Windows): reads wait here, as they did before (README).
            return self._send_pending(True, False)
        try:
            self._send_pending(False, False)
        except errors.SSLWantWriteError:
            pass                                     # the rest is in _unsent
        return 0

    cdef int _answer(self) except -1:
        """What a read sends (before it reads, and after each receipt), as OpenSSL's
        SSL_read does: the handshake and an answer the peer waits for (post-handshake
        authentication) in full, waiting as the socket's mode says; anything else (a
        KeyUpdate reply, which OpenSSL sends with the next write; an alert) only as far
        as the socket takes it now, and nothing while a write the caller is to retry is
        owed (its bytes go first, at the retry). So a peer that sends but does not read
        cannot hold up our reads, and a full-duplex peer that reads only once we have
        read is not waited for. For anything else a read does not wait for another
        thread's send (that thread sends what the read queued); for what the peer waits
        for it does, as that send may be one that takes only what the socket takes now."""
        conn = self.conn
        if not self._handshake_done or (conn is not None and conn.answer_awaited):
            return self._flush()
        if self._write_owed:
            return 0
        return self._flush_now()

    cdef int _send_pending(self, bint wait, bint wait_for_sender) except -1:
        """Send what is left in _unsent, then the engine's output, until both are empty;
        ``wait``: as long as the socket's mode says, else only what it takes now.

        One thread sends at a time (a reader and a writer may share an SSLSocket, as
        they do the stdlib's). When another is sending, this one waits for it only if
        ``wait_for_sender``; else it leaves its output to that sender, which takes the
        engine's output until there is none (the GIL is released only inside its socket
        calls, so it sees what was queued meanwhile)."""
        cdef Py_ssize_t sent
        if not PyThread_acquire_lock(self._send_lock, NOWAIT_LOCK):
            if not wait_for_sender:
                return 0
            self._wait_for(self._send_lock, self._sender)
        self._sender = <long>PyThread_get_thread_ident()
        try:
            while True:
                while PyByteArray_GET_SIZE(self._unsent):
                    sent = self._send_or_keep(self._unsent, wait)
                    del self._unsent[:sent]
                if self.conn is None:
                    return 0
                if not self.conn.records.has_outgoing():
                    self.conn.answer_awaited = False     # whatever the peer waited for went
                    return 0
                # Nothing left over: send the bytes object itself (no copy into _unsent);
                # only what the socket does not take is kept.
                out = self.conn.outgoing()
                sent = self._send_or_keep(out, wait)
                if sent < PyBytes_GET_SIZE(out):
                    self._unsent += memoryview(out)[sent:]
        finally:
            self._sender = 0
            PyThread_release_lock(self._send_lock)

    cdef int _wait_for(self, PyThread_type_lock lock, long holder) except -1:
        """Take ``lock`` (the send or the write lock), which thread ``holder`` has, waiting
        no longer than the socket's timeout allows (a non-blocking socket:
        SSLWantWriteError) and running signal handlers meanwhile, as a wait in the
        socket would."""
        cdef PyLockStatus status
        cdef long long micro
        if holder == <long>PyThread_get_thread_ident():
            raise _reentrant()
        timeout = self._sock.gettimeout()
        if timeout == 0:
            raise errors.want_write()
        deadline = None if timeout is None else _monotonic() + timeout
        while True:
            micro = -1 if deadline is None else <long long>(max(0.0, deadline - _monotonic()) * 1e6)
            with nogil:
                status = PyThread_acquire_lock_timed(lock, min(micro, PY_TIMEOUT_MAX), 1)
            if status == PY_LOCK_ACQUIRED:
                return 0
            if status == PY_LOCK_INTR:
                PyErr_CheckSignals()
            elif micro <= PY_TIMEOUT_MAX:
                raise _timeout("The write operation timed out")

    cdef Py_ssize_t _send_or_keep(self, data, bint wait) except -1:
        """_send_some(data, wait), its errors in the ssl module's terms. On a would-block
        or a timeout, bytes of ``data`` not already in _unsent are kept there first."""
        try:
            return self._send_some(data, wait)
        except (BlockingIOError, _timeout) as exc:
            if data is not self._unsent:
                self._unsent += data
            if isinstance(exc, BlockingIOError):
                raise errors.want_write() from None
            raise
        except OSError as exc:
            raise self._broken(exc) from None

    cdef object _send_some(self, data, bint wait):
        """Send what the socket takes of ``data``; its count. Write first, as OpenSSL
        does: socket.send on a socket with a timeout polls before every send, and a
        send almost never has to wait."""
        if not wait:
            timeout = self._sock.gettimeout()
            if timeout is None:                          # a blocking descriptor
                return _send(self._sock, data, _DONTWAIT)
            if timeout:                                  # non-blocking under a timeout
                return _write(_fileno(self._sock), data)
            # A non-blocking socket: as when waiting, which it never does.
        if _WRITE_FIRST:
            try:
                return _write(_fileno(self._sock), data)
            except BlockingIOError:
                pass
        return _send(self._sock, data)                  # waits up to the timeout

    cdef int _fill(self) except -1:
        self._answer()
        try:
            if self.conn is not None and self.conn.close_sent and not self.conn.close_received:
                # Shutting down (unwrap): take one record at a time, so that plaintext the
                # peer sends right after its close_notify stays in the socket for the caller.
                data = _recv(self._sock, self._record_remainder())
            else:
                data = _recv(self._sock, 65536)
        except BlockingIOError:
            return WOULD_BLOCK
        except _timeout:
            raise
        except OSError as exc:
            raise self._broken(exc) from None
        if data:
            self._feed(data)
            return 0
        self._transport_eof = True
        if self._handshake_done and (self.conn.close_sent or self.conn.close_received):
            return 0                                 # shutting down anyway
        if self._handshake_done and self._context._options & _IGNORE_UNEXPECTED_EOF:
            return 0
        raise self._eof_failure()

    cdef object _broken(self, exc):
        """A reset or broken pipe, as the stdlib reports it: the OSError itself during
        the handshake; afterwards SSL_ERROR_SYSCALL, an SSLEOFError (which
        suppress_ragged_eofs turns into b""), or SSLZeroReturnError once the peer's
        close_notify came. The connection is not failed: OpenSSL saw only a syscall.
        Bytes not yet sent will never be: they are dropped, not sent again later (a new
        buffer, as another thread may be sending from the old one)."""
        self._unsent = bytearray()
        self._write_owed = 0
        if not self._handshake_done:
            return exc
        if self.conn.close_received:
            return errors.zero_return()
        return errors.eof_syscall()

    cdef object _failed_handshake(self):
        return errors.eof_syscall()          # the stdlib's SSLSocket, unlike its SSLObject

    cdef Py_ssize_t _record_remainder(self):
        """Bytes still missing from the record being received (its header first)."""
        cdef Py_ssize_t buffered = self.conn.records.incoming_size
        if buffered < 5:
            return 5 - buffered
        header = self.conn.records.peek(5)
        return max(1, 5 + ((header[3] << 8) | header[4]) - buffered)

    def write(self, data):
        """As TLSChannel.write, but a write that raised SSLWantWriteError is finished by
        the caller's retry (with the same data) instead of being encrypted again.
        Writes take turns (two writer threads, which OpenSSL does not allow at all, each
        get their bytes through): another's is never taken for the owed one's retry."""
        cdef long me = <long>PyThread_get_thread_ident()
        if self._sender == me:
            # A signal handler writing inside our own send: its bytes would land inside
            # a record. (Inside our own write, _wait_for refuses it, before it queues.)
            raise _reentrant()
        if not PyThread_acquire_lock(self._write_lock, NOWAIT_LOCK):
            self._wait_for(self._write_lock, self._writer)
        self._writer = me
        try:
            if not self._write_owed:                 # else this is the owed write's retry
                self._write_owed = self._send_app_data(data)
            count = self._write_owed
            self._flush()
            self._write_owed = 0
            return count
        finally:
            self._writer = 0
            PyThread_release_lock(self._write_lock)

    def shutdown(self):
        """close_notify, then (on a blocking socket) the peer's; returns the socket."""
        TLSChannel.shutdown(self)
        return self._sock


cdef object _reentrant():
    # io's buffered writers refuse the same way.
    return RuntimeError("reentrant write on an SSLSocket (from a signal handler?)")


try:
    from ssl import OP_IGNORE_UNEXPECTED_EOF as _IGNORE_UNEXPECTED_EOF
except ImportError:
    _IGNORE_UNEXPECTED_EOF = 0x80
