"""SSLSocket: a socket.socket that speaks TLS through cyssl, the stdlib's class in shape.

It subclasses ``ssl.SSLSocket`` so ``isinstance(sock, ssl.SSLSocket)`` holds (ftplib,
httpcore: integration.md H13) and overrides every member ``ssl.SSLSocket`` defines, so no
call reaches OpenSSL; the TLS work is done by a SocketChannel in ``self._sslobj``, as the
stdlib keeps its C object there (httpcore reads ``_sslobj``).
"""
import errno as _errno
import socket as _socket
import warnings

from cyssl import errors

try:
    import ssl as _stdlib
    _Base = _stdlib.SSLSocket
except ImportError:
    _stdlib = None
    _Base = _socket.socket

_plain = _socket.socket                     # the methods that move plaintext bytes


class SSLSocket(_Base):
    """A socket wrapped in TLS; made by ``SSLContext.wrap_socket``."""

    def __init__(self, *args, **kwargs):
        raise TypeError("%s does not have a public constructor. Instances are returned by "
                        "SSLContext.wrap_socket()." % self.__class__.__name__)

    @classmethod
    def _create(cls, sock, server_side=False, do_handshake_on_connect=True,
                suppress_ragged_eofs=True, server_hostname=None, context=None, session=None):
        if sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_TYPE) != _socket.SOCK_STREAM:
            raise NotImplementedError("only stream sockets are supported")
        if server_side:
            if server_hostname:
                raise ValueError("server_hostname can only be specified in client mode")
            if session is not None:
                raise ValueError("session can only be specified in client mode")
        if context.check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        kwargs = dict(family=sock.family, type=sock.type, proto=sock.proto, fileno=sock.fileno())
        self = cls.__new__(cls, **kwargs)
        _plain.__init__(self, **kwargs)
        timeout = sock.gettimeout()
        sock.detach()
        self._context = context
        self._session = session
        self._closed = False
        self._sslobj = None
        self.server_side = server_side
        self.server_hostname = context._server_hostname(server_hostname)
        self.do_handshake_on_connect = do_handshake_on_connect
        self.suppress_ragged_eofs = suppress_ragged_eofs
        try:
            self.getpeername()
            connected = True
        except OSError as err:
            if err.errno != _errno.ENOTCONN:
                raise
            connected = False
            self._refuse_pre_handshake_data(err)
        self.settimeout(timeout)
        self._connected = connected
        if connected:
            try:
                self._sslobj = context._wrap_socket(self, server_side, self.server_hostname,
                                                    owner=self, session=self._session)
                if do_handshake_on_connect:
                    if self.gettimeout() == 0.0:
                        raise ValueError("do_handshake_on_connect should not be specified "
                                         "for non-blocking sockets")
                    self.do_handshake()
            except (OSError, ValueError):
                self.close()
                raise
        return self

    def _refuse_pre_handshake_data(self, not_connected):
        """CVE-2023-40217: bytes a peer sent before closing a not-yet-wrapped socket must
        not reach the caller as if TLS had carried them."""
        blocking = self.getblocking()
        self.setblocking(False)
        try:
            early = _plain.recv(self, 1)
        except OSError as err:
            if err.errno not in (_errno.ENOTCONN, _errno.EINVAL, _errno.EAGAIN):
                raise
            early = b""
        finally:
            self.setblocking(blocking)
        if early:
            reason = "Closed before TLS handshake with data in recv buffer."
            error = errors.SSLError(not_connected.errno, reason)
            error.reason = reason
            error.library = None
            try:
                self.close()
            except OSError:
                pass
            raise error

    # Connection state ---------------------------------------------------------

    @property
    def context(self):
        return self._context

    @context.setter
    def context(self, ctx):
        self._context = ctx
        if self._sslobj is not None:
            self._sslobj.context = ctx

    @property
    def session(self):
        if self._sslobj is not None:
            return self._sslobj.session
        return self._session

    @session.setter
    def session(self, session):
        self._session = session
        if self._sslobj is not None:
            self._sslobj.session = session

    @property
    def session_reused(self):
        return self._sslobj.session_reused if self._sslobj is not None else None

    def dup(self):
        raise NotImplementedError("Can't dup() %s instances" % self.__class__.__name__)

    def _checkClosed(self, msg=None):
        pass                                          # as the stdlib: socket calls detect it

    def _check_connected(self):
        if not self._connected:
            self.getpeername()                        # raises ENOTCONN like the stdlib

    # Handshake ----------------------------------------------------------------

    def do_handshake(self, block=False):
        self._check_connected()
        timeout = self.gettimeout()
        try:
            if timeout == 0.0 and block:
                self.settimeout(None)
            self._sslobj.do_handshake()
        finally:
            self.settimeout(timeout)

    def _real_connect(self, addr, connect_ex):
        if self.server_side:
            raise ValueError("can't connect in server-side mode")
        if self._connected or self._sslobj is not None:
            raise ValueError("attempt to connect already-connected SSLSocket!")
        self._sslobj = self._context._wrap_socket(self, False, self.server_hostname,
                                                  owner=self, session=self._session)
        try:
            if connect_ex:
                rc = _plain.connect_ex(self, addr)
            else:
                rc = None
                _plain.connect(self, addr)
            if not rc:
                self._connected = True
                if self.do_handshake_on_connect:
                    self.do_handshake()
            return rc
        except (OSError, ValueError):
            self._sslobj = None
            raise

    def connect(self, addr):
        """Connect to ``addr`` and run the TLS handshake (when do_handshake_on_connect)."""
        self._real_connect(addr, False)

    def connect_ex(self, addr):
        return self._real_connect(addr, True)

    def accept(self):
        """Accept a connection and wrap it, server side, in the same context."""
        newsock, addr = _plain.accept(self)
        newsock = self._context.wrap_socket(
            newsock, do_handshake_on_connect=self.do_handshake_on_connect,
            suppress_ragged_eofs=self.suppress_ragged_eofs, server_side=True)
        return newsock, addr

    # Data ---------------------------------------------------------------------

    def read(self, len=1024, buffer=None):
        """Up to ``len`` bytes (b"" at EOF); into ``buffer`` when given."""
        if self._sslobj is None:
            raise ValueError("Read on closed or unwrapped SSL socket.")
        try:
            return self._sslobj.read(len, buffer)
        except errors.SSLError as err:
            if err.args[0] == errors.SSL_ERROR_EOF and self.suppress_ragged_eofs:
                return 0 if buffer is not None else b""
            raise

    def write(self, data):
        if self._sslobj is None:
            raise ValueError("Write on closed or unwrapped SSL socket.")
        return self._sslobj.write(data)

    def send(self, data, flags=0):
        if self._sslobj is None:
            return _plain.send(self, data, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to send() on %s" % self.__class__)
        return self._sslobj.write(data)

    def sendall(self, data, flags=0):
        if self._sslobj is None:
            return _plain.sendall(self, data, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to sendall() on %s" % self.__class__)
        if type(data) is bytes or type(data) is bytearray:
            # One write takes all of it (sent, or kept for the retry SSLWantWriteError
            # asks for): the stdlib's loop over views of the data is not needed.
            if data:
                self._sslobj.write(data)
            return
        with memoryview(data) as view, view.cast("B") as octets:
            sent = 0
            while sent < len(octets):
                sent += self.send(octets[sent:])

    def sendto(self, data, flags_or_addr, addr=None):
        if self._sslobj is not None:
            raise ValueError("sendto not allowed on instances of %s" % self.__class__)
        if addr is None:
            return _plain.sendto(self, data, flags_or_addr)
        return _plain.sendto(self, data, flags_or_addr, addr)

    def sendmsg(self, *args, **kwargs):
        raise NotImplementedError("sendmsg not allowed on instances of %s" % self.__class__)

    def sendfile(self, file, offset=0, count=None):
        if self._sslobj is not None:
            return self._sendfile_use_send(file, offset, count)
        return _plain.sendfile(self, file, offset, count)

    def recv(self, buflen=1024, flags=0):
        if buflen < 0:
            raise ValueError("negative buffersize in recv")
        if self._sslobj is None:
            return _plain.recv(self, buflen, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to recv() on %s" % self.__class__)
        return self.read(buflen)

    def recv_into(self, buffer, nbytes=None, flags=0):
        if nbytes is None and flags == 0 and buffer is not None and self._sslobj is not None:
            return self.read(0, buffer)         # 0: as much as the buffer holds
        if nbytes is None:
            nbytes = memoryview(buffer).nbytes if buffer is not None else 1024
            nbytes = nbytes or 1024
        if self._sslobj is None:
            return _plain.recv_into(self, buffer, nbytes, flags)
        if flags != 0:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on %s" % self.__class__)
        return self.read(nbytes, buffer)

    def recvfrom(self, buflen=1024, flags=0):
        if self._sslobj is not None:
            raise ValueError("recvfrom not allowed on instances of %s" % self.__class__)
        return _plain.recvfrom(self, buflen, flags)

    def recvfrom_into(self, buffer, nbytes=None, flags=0):
        if self._sslobj is not None:
            raise ValueError("recvfrom_into not allowed on instances of %s" % self.__class__)
        return _plain.recvfrom_into(self, buffer, nbytes, flags)

    def recvmsg(self, *args, **kwargs):
        raise NotImplementedError("recvmsg not allowed on instances of %s" % self.__class__)

    def recvmsg_into(self, *args, **kwargs):
        raise NotImplementedError("recvmsg_into not allowed on instances of %s" % self.__class__)

    def pending(self):
        return self._sslobj.pending() if self._sslobj is not None else 0

    # Closing ------------------------------------------------------------------

    def shutdown(self, how):
        self._sslobj = None
        _plain.shutdown(self, how)

    def unwrap(self):
        """close_notify both ways; returns the socket, now speaking plaintext."""
        if not self._sslobj:
            raise ValueError("No SSL wrapper around " + str(self))
        sock = self._sslobj.shutdown()
        self._sslobj = None
        return sock

    def _real_close(self):
        self._sslobj = None
        _plain._real_close(self)

    # Queries ------------------------------------------------------------------

    def getpeercert(self, binary_form=False):
        self._check_connected()
        return self._sslobj.getpeercert(binary_form)

    def get_verified_chain(self):
        return self._sslobj.get_verified_chain() if self._sslobj is not None else []

    def get_unverified_chain(self):
        return self._sslobj.get_unverified_chain() if self._sslobj is not None else []

    def selected_npn_protocol(self):
        warnings.warn("ssl NPN is deprecated, use ALPN instead", DeprecationWarning, stacklevel=2)
        return None

    def selected_alpn_protocol(self):
        return self._sslobj.selected_alpn_protocol() if self._sslobj is not None else None

    def cipher(self):
        return self._sslobj.cipher() if self._sslobj is not None else None

    def shared_ciphers(self):
        return self._sslobj.shared_ciphers() if self._sslobj is not None else None

    def compression(self):
        return None

    def version(self):
        return self._sslobj.version() if self._sslobj is not None else None

    def get_channel_binding(self, cb_type="tls-unique"):
        if self._sslobj is None:
            if cb_type != "tls-unique":
                raise ValueError("{0} channel binding type not implemented".format(cb_type))
            return None
        return self._sslobj.get_channel_binding(cb_type)

    def verify_client_post_handshake(self):
        if not self._sslobj:
            raise ValueError("No SSL wrapper around " + str(self))
        return self._sslobj.verify_client_post_handshake()

    def export_keying_material(self, label, context=None, length=32):
        return self._sslobj.export_keying_material(label, context, length)
