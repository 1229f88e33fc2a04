# cython: language_level=3
"""TLSChannel: one TLS connection as the ssl API sees it, driving a sans-IO engine
Connection over some transport. Subclasses say how bytes come and go: SSLObject over
memory BIOs, SocketChannel over a socket. Everything else (handshake, read, write,
shutdown, the connection queries) is here once.
"""
from cyssl import errors
from cyssl.constants import PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER
from cyssl.session import SSLSession, resumable
from cyssl.tls.client13 import client_connection
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_WRITABLE
from cpython.bytes cimport PyBytes_GET_SIZE

from cyssl.tls.connection cimport Connection
from cyssl.tls.errors import TLSError
from cyssl.tls.server13 import server_connection

_BITS = {16: 128, 32: 256}


cdef inline Py_ssize_t byte_count(data) except -1:
    """len() in bytes of any bytes-like object (bytes without making a memoryview)."""
    if type(data) is bytes:
        return PyBytes_GET_SIZE(data)
    try:
        return memoryview(data).nbytes
    except TypeError:
        raise TypeError("a bytes-like object is required, not '%s'" % type(data).__name__) from None

# The operations _after_failure answers for.
cdef enum:
    OP_HANDSHAKE = 0
    OP_READ = 1
    OP_WRITE = 2


cdef class TLSChannel:

    def __cinit__(self, context=None, bint server_side=False, server_hostname=None, owner=None,
                  session=None, *args):
        protocol = getattr(context, "_protocol", None)
        if protocol == (PROTOCOL_TLS_CLIENT if server_side else PROTOCOL_TLS_SERVER):
            # As the stdlib's, at once rather than at the handshake.
            raise errors.ssl_error(None, "Cannot create a %s socket with a %s context" % (
                ("server", "PROTOCOL_TLS_CLIENT") if server_side else ("client", "PROTOCOL_TLS_SERVER")))
        self._context = context
        self.server_side = server_side
        if server_hostname is not None and not isinstance(server_hostname, str):
            server_hostname = bytes(server_hostname).decode("ascii")
        self._server_hostname = server_hostname
        self._owner = owner
        self._session = None
        self._handshake_done = False
        self._transport_eof = False
        self._failed = False
        self._close_reported = False
        if session is not None:
            self.session = session          # checked as the setter checks it, as the stdlib does

    # Transport (subclasses) --------------------------------------------------

    cdef int _fill(self) except -1:
        """Feed the engine more bytes from the transport: 0, or WOULD_BLOCK when it has
        none now (the caller raises SSLWantReadError, as high up as it can: each Cython
        level an exception passes through adds a traceback entry, and asyncio meets this
        after every message it reads); raise for anything else (EOF, a failure)."""
        raise NotImplementedError

    cdef int _flush(self) except -1:
        """Hand the engine's pending output to the transport."""
        raise NotImplementedError

    # Engine -------------------------------------------------------------------

    cdef Connection _engine(self):
        cdef Connection conn = self.conn
        if conn is None:
            config = self._context._engine_config(self.server_side)
            if self.server_side:
                if self._context.sni_callback is not None:
                    config = config.copy(servername_callback=_servername_callback)
                conn = server_connection(config)
            else:
                conn = client_connection(config, self._server_hostname, resumable(self._session))
            conn.owner = self
            self.conn = conn
            self._flush()
        return conn

    cdef int _flush_now(self) except -1:
        """_flush() as far as the transport takes it without waiting; the rest goes at
        its next use."""
        return self._flush()

    cdef int _answer(self) except -1:
        """Send what received bytes called for."""
        return self._flush()

    cdef int _feed(self, data) except -1:
        cdef bint brought_data
        try:
            brought_data = self.conn.receive(data)
        except TLSError as err:
            self._flush_after_error()
            raise self._engine_failure(err) from None
        try:
            self._answer()
        except OSError:                       # ssl.SSLError included
            # After data: a failure left for later has its alert sent when it is raised;
            # a transport's failure is raised after the data (see _fill_into).
            if not brought_data or self.conn.error is None:
                raise
        return 0

    def _flush_after_error(self):
        try:
            # The alert we owe the peer, if the transport takes it: a peer that does not
            # read does not keep the failure from being reported.
            self._flush_now()
        except (OSError, errors.SSLError):
            pass

    cdef int _handshake(self) except -1:
        cdef Connection conn = self._engine()
        if self._handshake_done:
            self._flush()
            return 0
        while not conn.handshake_complete:
            if conn.error is not None:
                raise self._engine_failure(conn.error)
            if conn.close_received and not self._close_reported:
                # The peer gave up: no handshake will finish. OpenSSL reports it once
                # (later calls wait for more input or find the transport's end).
                self._close_reported = True
                raise errors.zero_return()
            if self._fill() == WOULD_BLOCK:
                raise errors.want_read()
        self._flush()
        self._handshake_done = True
        self._context._count_handshake(self.server_side, conn.resumed)
        return 0

    def do_handshake(self):
        """Run the handshake as far as the transport allows."""
        if self._failed:
            raise self._after_failure(OP_HANDSHAKE)
        self._handshake()

    # Failures ---------------------------------------------------------------------
    # After its first error OpenSSL keeps the connection in an error state and answers
    # every later call from it; the stdlib shows those answers as below (the oracle:
    # tests/test_close_eof.py runs each situation with the stdlib at this end too).

    cdef object _failure(self, error):
        """Enter the error state; returns ``error``, the first report, to raise."""
        self._failed = True
        return error

    cdef object _engine_failure(self, err):
        return self._failure(errors.from_engine(err))

    cdef object _eof_failure(self):
        """The transport ended without close_notify."""
        return self._failure(errors.unexpected_eof())

    cdef object _after_failure(self, int op):
        """The error a later call gets, or None for a read that returns b"". Once the
        peer has closed (close_notify or a fatal alert) OpenSSL reports SSL_ERROR_ZERO_RETURN
        (a read: b""); otherwise SSL_ERROR_SYSCALL with nothing queued."""
        conn = self.conn
        if conn is not None and (conn.close_received or
                                 (conn.error is not None and conn.error.received)):
            return None if op == OP_READ else errors.zero_return()
        if op == OP_HANDSHAKE:
            return self._failed_handshake()
        return errors.eof_syscall()

    cdef object _failed_handshake(self):
        return errors.syscall()

    # Data -----------------------------------------------------------------------

    def read(self, Py_ssize_t len=1024, buffer=None):
        """Up to ``len`` bytes of application data (into ``buffer`` when given, returning
        the count); b"" (0) once the peer has sent close_notify."""
        if buffer is None:
            if len <= 0:
                if len < 0:
                    raise ValueError("size should not be negative")
                return b""                          # as the stdlib's, whatever the state
            return self._read(len, None, NULL)
        # The buffer is taken first, as the stdlib's argument parsing takes it: one that
        # cannot be written is a TypeError before any handshake.
        cdef Py_buffer dest
        try:
            PyObject_GetBuffer(buffer, &dest, PyBUF_WRITABLE)
        except (BufferError, TypeError):
            raise TypeError("read() argument 2 must be read-write bytes-like object, not %s"
                            % type(buffer).__name__) from None
        try:
            return self._read(len, buffer, &dest)
        finally:
            PyBuffer_Release(&dest)

    cdef object _read(self, Py_ssize_t len, object buffer, Py_buffer* dest):
        """read()'s work: into ``dest`` (exported from ``buffer``), or a bytes object
        when ``dest`` is NULL."""
        cdef Connection conn = self._engine()
        cdef Py_ssize_t delivered
        if self._failed:
            error = self._after_failure(OP_READ)
            if error is None:
                return b"" if dest == NULL else 0
            raise error
        if not self._handshake_done:
            if conn.close_received:                 # close_notify during the handshake
                return b"" if dest == NULL else 0
            try:
                self._handshake()
            except errors.SSLZeroReturnError:
                return b"" if dest == NULL else 0
        if dest == NULL:
            while True:
                if conn.received.size:
                    return conn.read(len)
                if not self._may_fill(conn):
                    return b""
                delivered = self._fill_into(conn, None, NULL, len, False)
                if delivered == WOULD_BLOCK:
                    raise errors.want_read()
                if delivered:
                    return conn.records.take_direct_bytes()
        if len <= 0 or len > dest.len:
            len = dest.len
        while True:
            if conn.received.size:
                len = min(len, conn.received.size)
                conn.received.take_into(<char*>dest.buf, len)
                return len
            if len == 0 or not self._may_fill(conn):
                return 0
            # A whole bytearray's terminating NUL may hold TLS 1.3's content type byte
            # for a moment (see RecordLayer.next_payload): a 16 KiB record then opens
            # straight into a 16 KiB bytearray, where another buffer would need a copy.
            # (cryptography 48 keeps the GIL while it decrypts; a thread using the
            # buffer meanwhile would race with its contents anyway.)
            delivered = self._fill_into(conn, buffer, <unsigned char*>dest.buf, len,
                                        type(buffer) is bytearray and len == dest.len)
            if delivered == WOULD_BLOCK:
                raise errors.want_read()
            if delivered:
                return delivered

    cdef bint _may_fill(self, Connection conn) except -1:
        """Whether a read finding nothing queued should wait for more from the peer (False:
        it returns end of stream now)."""
        self._raise_left_error(conn)
        if conn.close_received and conn.close_sent:
            raise errors.zero_return()              # both closed: OpenSSL's SSL_ERROR_ZERO_RETURN
        return not (conn.close_received or self._transport_eof)

    cdef Py_ssize_t _fill_into(self, Connection conn, object owner, unsigned char* dest,
                               Py_ssize_t room, bint nul_after) except -1:
        """_fill(), letting the next application data record go straight to the caller:
        decrypted into its buffer ``dest`` or, with ``dest`` NULL, into a new bytes object
        (``take_direct_bytes()``), with no copy out of our buffer; the bytes delivered, or
        WOULD_BLOCK when the transport had none (then nothing was delivered)."""
        cdef int status
        cdef Py_ssize_t delivered
        conn.records.direct_to(owner, dest, room, nul_after)
        try:
            status = self._fill()
        except BaseException as exc:
            delivered = conn.records.direct_done()
            # Received bytes that brought data called for an answer (a KeyUpdate) that the
            # transport failed to take (an OSError, ssl.SSLError included: a reset, a
            # MemoryBIO after write_eof): the data is the reader's now; the failure comes
            # back at the transport's next use. (A failure of the engine is not the
            # transport's: it is raised now.)
            if (isinstance(exc, OSError) and (delivered or conn.received.size)
                    and not self._failed):
                return delivered
            conn.records.take_direct_bytes()
            raise
        delivered = conn.records.direct_done()
        return WOULD_BLOCK if status == WOULD_BLOCK else delivered

    cdef int _raise_left_error(self, Connection conn) except -1:
        """Raise the failure the engine met after application data in the same batch, once
        that data has been read (OpenSSL, reading a record at a time, reports it then)."""
        if conn.error is not None and not self._failed:
            self._flush_after_error()         # its alert, if the transport could not take it yet
            raise self._engine_failure(conn.error)
        return 0

    def write(self, data):
        """Send ``data`` (any bytes-like object); returns the number of bytes taken."""
        cdef Py_ssize_t count = self._send_app_data(data)
        self._flush()
        return count

    cdef Py_ssize_t _send_app_data(self, data) except -1:
        """Queue ``data`` as application data records, the handshake first if it is due;
        the number of bytes taken. A refusal sends the alert it owes, then raises. Data
        that is no bytes-like object is a TypeError at once, before any handshake."""
        cdef Py_ssize_t count = byte_count(data)
        self._check_writable()
        try:
            self.conn.send(data)
        except TLSError as err:
            raise self._send_failed(err) from None
        return count

    cdef int _check_writable(self) except -1:
        """Raise what a write gets now, if anything (the handshake runs first)."""
        cdef Connection conn = self.conn
        if (conn is not None and self._handshake_done and not self._failed
                and conn.error is None and not conn.close_sent):
            return 0          # established: every check below would pass (each write asks)
        self._engine()
        if self._failed:
            raise self._after_failure(OP_WRITE)
        if not self._handshake_done:
            self._handshake()
        self._raise_left_error(self.conn)
        if self.conn.close_sent:
            raise errors.protocol_is_shutdown()
        return 0

    def _send_failed(self, err):
        """The engine refused to send: the alert it owes goes out; the error to raise."""
        self._flush_after_error()
        return self._engine_failure(err)

    def pending(self):
        return self.conn.pending if self.conn is not None else 0

    def shutdown(self):
        """Send close_notify and wait for the peer's (the core of unwrap())."""
        cdef Connection conn = self._engine()
        if self._failed or not conn.handshake_complete:
            # OpenSSL's SSL_shutdown refuses the same way until a handshake has finished.
            raise errors.ssl_error("SHUTDOWN_WHILE_IN_INIT", "shutdown while in init")
        self._raise_left_error(conn)
        conn.close()
        self._flush()
        cdef Py_ssize_t unread = conn.received.size
        while not conn.close_received and not self._transport_eof:
            if self._fill() == WOULD_BLOCK:
                raise errors.want_read()
            self._raise_left_error(conn)
            if conn.received.size > unread:
                # As OpenSSL's: data arriving while we wait for the peer's close_notify is
                # an error, not dropped unseen with the connection (it stays readable).
                raise errors.ssl_error("APPLICATION_DATA_AFTER_CLOSE_NOTIFY",
                                       "application data after close notify")
        return None

    # Queries ------------------------------------------------------------------

    def getpeercert(self, binary_form=False):
        if not self._handshake_done:
            raise ValueError("handshake not done yet")
        chain = self.conn.peer_chain
        if not chain:
            return None
        if binary_form:
            return chain[0]
        if not self.conn.verified_chain:
            return {}
        from cyssl.crypto.peercert import decode_certificate
        return decode_certificate(chain[0])

    def get_verified_chain(self):
        return list(self.conn.verified_chain) if self._handshake_done else []

    def get_unverified_chain(self):
        return list(self.conn.peer_chain) if self._handshake_done else []

    def cipher(self):
        if not self._handshake_done:
            return None
        suite = self.conn.suite
        return (suite.openssl_name, self.version(), _BITS[suite.aead.key_length])

    def shared_ciphers(self):
        if not self._handshake_done or not self.server_side:
            return None                          # as OpenSSL: known on the server side only
        from cyssl.tls.suites import BY_CODE
        config = self.conn.config
        ours = list(config.tls13_suites) + list(config.tls12_suites)
        offered = self.conn.offered_suites if self.server_side else None
        codes = [c for c in (offered or ours) if c in ours]
        return [(BY_CODE[c].openssl_name, "TLSv1.3" if BY_CODE[c].tls13 else "TLSv1.2",
                 _BITS[BY_CODE[c].aead.key_length]) for c in codes]

    def version(self):
        if not self._handshake_done:
            return None
        return {0x0304: "TLSv1.3", 0x0303: "TLSv1.2"}.get(self.conn.version)

    def selected_alpn_protocol(self):
        if self.conn is None or self.conn.alpn_protocol is None:
            return None
        return self.conn.alpn_protocol.decode("ascii")

    def selected_npn_protocol(self):
        return None

    def compression(self):
        return None

    def get_channel_binding(self, cb_type="tls-unique"):
        if not isinstance(cb_type, str):            # as the stdlib's argument parsing
            raise TypeError("get_channel_binding() argument 'cb_type' must be str, not %s"
                            % type(cb_type).__name__)
        if cb_type != "tls-unique":
            raise ValueError("{0} channel binding type not implemented".format(cb_type))
        if not self._handshake_done:
            return None
        # As OpenSSL: the first Finished of the handshake (the server's when resumed).
        return self.conn.server_finished if self.conn.resumed else self.conn.client_finished

    def verify_client_post_handshake(self):
        if not self.server_side:
            raise errors.ssl_error("NOT_SERVER", "not server")
        if not self._handshake_done:
            raise errors.ssl_error("STILL_IN_INIT", "still in init")
        if self.conn.version != 0x0304:
            raise errors.ssl_error("WRONG_SSL_VERSION", "wrong ssl version")
        try:
            self.conn.handshake.request_client_certificate()
        except TLSError as err:
            raise errors.from_engine(err) from None
        self._flush()

    def export_keying_material(self, label, context=None, length=32):
        """RFC 8446 7.5 / RFC 5705 exporter (a cyssl extension of the ssl API)."""
        if not self._handshake_done:
            raise ValueError("handshake not done yet")
        return self.conn.export_keying_material(label, context, length)

    @property
    def context(self):
        return self._context

    @context.setter
    def context(self, ctx):
        from cyssl.context import SSLContext
        if not isinstance(ctx, SSLContext):
            raise TypeError("The value must be a cyssl SSLContext")
        self._context = ctx
        if self.conn is not None and self.server_side:
            self.conn.config = ctx._engine_config(True)   # the server name callback switches

    @property
    def server_hostname(self):
        return self._server_hostname

    @property
    def session(self):
        cdef Connection conn = self.conn
        if conn is not None and conn.session is not None:
            return SSLSession._wrap(conn.session, self._context)
        if conn is not None and conn.handshake_complete:
            if self._shown_session is None:          # one per connection, as OpenSSL's
                self._shown_session = SSLSession._unresumable(
                    self.server_side and conn.version == 0x0304, self._context)
            return self._shown_session
        return self._session

    @session.setter
    def session(self, value):
        if not isinstance(value, SSLSession):
            raise TypeError("Value is not a SSLSession.")
        if value._context is not self._context:
            raise ValueError("Session refers to a different SSLContext.")
        if self.server_side:
            raise ValueError("Cannot set session for server-side SSLSocket.")
        if self._handshake_done:
            raise ValueError("Cannot set session after handshake.")
        self._session = value

    @property
    def owner(self):
        """The object the stdlib's callbacks see as this connection: the SSLSocket or the
        stdlib SSLObject shell wrapping us, else this object itself (a cyssl SSLObject is
        its own wrapper: ``sslobj._sslobj.owner is sslobj``, as with the stdlib's)."""
        return self._owner if self._owner is not None else self

    @owner.setter
    def owner(self, value):
        self._owner = value

    @property
    def _sslobj(self):
        """The stdlib's SSLObject keeps its C object here; some code reaches for it."""
        return self

    @property
    def session_reused(self):
        return bool(self.conn is not None and self.conn.resumed)


def _servername_callback(conn, name):
    """Engine hook: call the context's sni_callback as the stdlib does (owner object, name,
    context); it may switch ``ssl_object.context``; a returned int is an alert."""
    channel = conn.owner
    context = channel.context
    callback = context.sni_callback
    target = channel.owner
    try:
        result = callback(target, name, context)
    except Exception:
        _unraisable(callback)
        return 40                                   # handshake_failure, as OpenSSL sends
    if result is None:
        return None
    if not isinstance(result, int):
        try:
            raise TypeError("servername callback must return None or an integer")
        except TypeError:
            _unraisable(callback)
        return 80                                   # internal_error
    return result


def _unraisable(callback):
    """Report the exception in hand as the stdlib does from its C callback."""
    import sys
    kind, value, traceback = sys.exc_info()

    class UnraisableHookArgs:
        exc_type = kind
        exc_value = value
        exc_traceback = traceback
        err_msg = "Exception ignored in the servername callback"
        object = callback
    sys.unraisablehook(UnraisableHookArgs)
