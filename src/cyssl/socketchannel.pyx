# cython: language_level=3
"""SocketChannel: a TLSChannel whose transport is the SSLSocket's own socket.

It keeps the stdlib's contract (OpenSSL's SSL_do_handshake(3) in Python terms): on a
non-blocking socket the operations raise SSLWantReadError / SSLWantWriteError and keep
unsent bytes, so a retry continues exactly where it stopped and nothing is lost or sent
twice; on a blocking socket they block; with a timeout the socket's timeout error rises.
"""
import os
import socket as _socket

from cpython.bytearray cimport PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_GET_SIZE
from cpython.pythread cimport (NOWAIT_LOCK, WAIT_LOCK, PyThread_acquire_lock, PyThread_allocate_lock,
                               PyThread_free_lock, PyThread_release_lock, PyThread_type_lock)

from cyssl import errors
from cyssl.channel cimport TLSChannel

_recv = _socket.socket.recv
_send = _socket.socket.send
_write = os.write
_fileno = _socket.socket.fileno
_WRITE_FIRST = os.name == "posix"          # os.write takes a socket's descriptor there
cdef int _DONTWAIT = getattr(_socket, "MSG_DONTWAIT", 0)   # 0: no such flag (Windows)


cdef class SocketChannel(TLSChannel):
    cdef object _sock
    cdef bytearray _unsent
    cdef Py_ssize_t _write_owed
    cdef PyThread_type_lock _send_lock         # held by the thread in _send_pending

    def __cinit__(self, context=None, bint server_side=False, server_hostname=None, owner=None,
                  session=None, sock=None):
        self._sock = sock
        self._unsent = bytearray()
        self._write_owed = 0
        self._send_lock = PyThread_allocate_lock()
        if self._send_lock == NULL:
            raise MemoryError()

    def __dealloc__(self):
        if self._send_lock != NULL:
            PyThread_free_lock(self._send_lock)

    cdef int _flush(self) except -1:
        return self._send_pending(True)

    cdef int _flush_now(self) except -1:
        if not PyByteArray_GET_SIZE(self._unsent) and (self.conn is None
                                                       or not self.conn.records.has_outgoing()):
            return 0
        if not _DONTWAIT:
            return self._flush()
        try:
            self._send_pending(False)
        except errors.SSLWantWriteError:
            pass                                     # the rest is in _unsent
        return 0

    cdef int _answer(self) except -1:
        return self._send_before_reading()

    cdef int _send_before_reading(self) except -1:
        """What a read sends, as OpenSSL's SSL_read does: the handshake and an answer the
        peer waits for (post-handshake authentication) in full, waiting as the socket's
        mode says; anything else (a KeyUpdate reply, which OpenSSL sends with the next
        write; an alert) only as far as the socket takes it now, and nothing while a
        write the caller is to retry is owed (its bytes go first, at the retry). So a
        peer that sends but does not read cannot hold up our reads, and a full-duplex
        peer that reads only once we have read is not waited for."""
        conn = self.conn
        if not self._handshake_done or (conn is not None and conn.answer_awaited):
            self._flush()
            if conn is not None:
                conn.answer_awaited = False
            return 0
        if self._write_owed:
            return 0
        return self._flush_now()

    cdef int _send_pending(self, bint wait) except -1:
        """Send what is left in _unsent, then the engine's output, until both are empty;
        ``wait``: as long as the socket's mode says, else only what it takes now.

        One thread sends at a time (a reader and a writer may share an SSLSocket, as
        they do the stdlib's): one that must wait for its bytes to go waits for the
        sender, without the GIL; one that need not leaves its output to the sender,
        which takes the engine's output until there is none (the GIL is released only
        inside its socket calls, so it sees what was queued meanwhile)."""
        cdef Py_ssize_t sent
        if not PyThread_acquire_lock(self._send_lock, NOWAIT_LOCK):
            if not wait:
                return 0
            with nogil:
                PyThread_acquire_lock(self._send_lock, WAIT_LOCK)
        try:
            while True:
                while PyByteArray_GET_SIZE(self._unsent):
                    sent = self._send_or_keep(self._unsent, wait)
                    del self._unsent[:sent]
                if self.conn is None or not self.conn.records.has_outgoing():
                    return 0
                # Nothing left over: send the bytes object itself (no copy into _unsent);
                # only what the socket does not take is kept.
                out = self.conn.outgoing()
                sent = self._send_or_keep(out, wait)
                if sent < PyBytes_GET_SIZE(out):
                    self._unsent += memoryview(out)[sent:]
        finally:
            PyThread_release_lock(self._send_lock)

    cdef Py_ssize_t _send_or_keep(self, data, bint wait) except -1:
        """_send_some(data, wait), its errors in the ssl module's terms. On a would-block
        or a timeout, bytes of ``data`` not already in _unsent are kept there first."""
        try:
            return self._send_some(data, wait)
        except (BlockingIOError, TimeoutError) as exc:
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
            if self._sock.gettimeout() is None:         # a blocking descriptor
                return _send(self._sock, data, _DONTWAIT)
            return _write(_fileno(self._sock), data)    # non-blocking under a timeout
        if _WRITE_FIRST:
            try:
                return _write(_fileno(self._sock), data)
            except BlockingIOError:
                pass
        return _send(self._sock, data)                  # waits up to the timeout

    cdef int _fill(self) except -1:
        self._send_before_reading()
        try:
            if self.conn is not None and self.conn.close_sent and not self.conn.close_received:
                # Shutting down (unwrap): take one record at a time, so that plaintext the
                # peer sends right after its close_notify stays in the socket for the caller.
                data = _recv(self._sock, self._record_remainder())
            else:
                data = _recv(self._sock, 65536)
        except BlockingIOError:
            raise errors.want_read() from None
        except TimeoutError:
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
        Bytes not yet sent will never be: they are dropped, not sent again later."""
        del self._unsent[:]
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
        the caller's retry (with the same data) instead of being encrypted again."""
        if self._write_owed:
            self._flush()
            count = self._write_owed
            self._write_owed = 0
            return count
        count = self._send_app_data(data)
        self._write_owed = count
        self._flush()
        self._write_owed = 0
        return count

    def shutdown(self):
        """close_notify, then (on a blocking socket) the peer's; returns the socket."""
        TLSChannel.shutdown(self)
        return self._sock


try:
    from ssl import OP_IGNORE_UNEXPECTED_EOF as _IGNORE_UNEXPECTED_EOF
except ImportError:
    _IGNORE_UNEXPECTED_EOF = 0x80
