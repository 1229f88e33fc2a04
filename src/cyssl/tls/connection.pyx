# cython: language_level=3
"""One TLS connection, sans-IO: ``receive(bytes)`` in, ``outgoing()`` bytes out.

The connection owns the record layer, handshake reassembly, alerts, received
application data and the key updates that follow the handshake; the role's handshake
state machine (client13 / server13) decides what each handshake message means. Any
failure is raised as TLSError after the alert it calls for has been queued for the
peer; the connection then stays failed.
"""
import time

from cyssl.tls import keyschedule
from cyssl.tls.bytequeue cimport ByteQueue
from cyssl.tls.errors import TLSError, received_alert_reason, alert_name
from cyssl.tls.errors cimport (CLOSE_NOTIFY, DECODE_ERROR, INTERNAL_ERROR, NO_RENEGOTIATION,
                               UNEXPECTED_MESSAGE, USER_CANCELED)
from cyssl.tls.keyschedule cimport HMACKey
from cyssl.tls.messages cimport HandshakeBuffer
from cyssl.tls.messages import encode_key_update, parse_key_update, unexpected_message
from cyssl.tls.record cimport RecordLayer, RecordProtection, ALERT, APPLICATION_DATA, \
    CHANGE_CIPHER_SPEC, HANDSHAKE

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_WRITABLE

# Update our write key this many records before the AEAD limit, so a KeyUpdate always
# fits (RFC 8446 5.5).
cdef enum:
    KEY_UPDATE_MARGIN = 1 << 16
# Records that carry nothing (TLS 1.3 CCS, warning alerts, empty application data) are
# dropped, but not without end: a peer may send this many in a row (OpenSSL allows 32).
MAX_IGNORED_RECORDS = 32


cdef class Connection:

    def __cinit__(self, config, bint server_side):
        self.config = config
        self.server_side = server_side
        self.records = RecordLayer()
        self.handshake_buffer = HandshakeBuffer(config.max_handshake_message)
        self.received = ByteQueue()
        self.handshake_complete = False
        self.answer_awaited = False
        self.app_data_readable = False
        self.ccs_allowed = False
        self.ccs_received = False
        self._ignored_records = 0
        self.close_received = False
        self.close_sent = False
        self.error = None
        self.peer_chain = []
        self.verified_chain = []
        self.version = 0
        self.resumed = False
        self.peer_signature_scheme = 0

    # Bytes in ---------------------------------------------------------------

    cpdef bint receive(self, data) except -1:
        """Process received bytes: handshake progress, alerts, application data. True when
        they brought the reader application data."""
        if self.error is not None:
            raise self.error
        if self.close_received:
            return False                        # RFC 8446 6.1: data after close_notify is ignored
        cdef int content_type
        cdef bint data_arrived = False
        self.records.receive(data)
        try:
            while not self.close_received:
                payload = self.records.next_payload(&content_type)
                if not content_type:
                    break
                if self._on_record(content_type, payload):
                    data_arrived = True
        except Exception as exc:
            if isinstance(exc, TLSError):
                err = exc
            else:
                # A bug of ours must still fail closed, as a TLS error, telling the peer.
                err = TLSError(INTERNAL_ERROR, "INTERNAL_ERROR",
                               "internal error (%s) while processing peer data" % type(exc).__name__)
                err.__cause__ = exc
            self.abort(err)
            if data_arrived:
                # The application data before the failure is read first, and the failure
                # reported to the read after it (``error``), as OpenSSL reads a record at
                # a time: nothing the peer did send is lost to a later bad record.
                return True
            raise err
        return data_arrived

    cdef int _on_record(self, int content_type, object payload) except -1:
        """Act on one record; 1 if it brought application data for the reader, else 0."""
        cdef Py_ssize_t n
        if content_type == APPLICATION_DATA:
            if not self.app_data_readable:
                raise unexpected_message("application data before the handshake finished",
                                         "UNEXPECTED_RECORD")
            if payload is None:         # delivered straight to the reader
                self._ignored_records = 0
                return 1
            n = len(payload)
            if not n:
                return self._ignore_record("empty application data records", "RECORD_TOO_SMALL")
            self._ignored_records = 0
            if type(payload) is not bytes:
                # A view of the record layer's decryption buffer: the buffer becomes ours.
                self.records.release_payload()
            self.received.append(payload, n)
            return 1
        elif content_type == HANDSHAKE:
            self._hello_seen = True
            self._ignored_records = 0
            self.handshake_buffer.add(payload)
            while True:
                message = self.handshake_buffer.next_message()
                if message is None:
                    break
                self.handshake.handle(message[0], message[1], message[2])
                if self.error is not None:
                    break
        elif content_type == ALERT:
            if self.server_side and not self._hello_seen and len(payload) == 2:
                # A server takes nothing but a ClientHello first, not even an alert (OpenSSL).
                raise unexpected_message("alert before the ClientHello")
            self._on_alert(payload)
        else:                                   # CHANGE_CIPHER_SPEC
            if bytes(payload) != b"\x01":
                raise TLSError(UNEXPECTED_MESSAGE, "BAD_CHANGE_CIPHER_SPEC",
                               "malformed change_cipher_spec")
            if self.version == 0x0303:          # TLS 1.2: it switches the read key
                self.handshake.change_cipher_spec()
                return 0
            # TLS 1.3 middlebox compatibility: CCS records of 0x01 during the handshake
            # are dropped (RFC 8446 section 5); a few, not an endless stream.
            if not self.ccs_allowed:
                raise unexpected_message("change_cipher_spec out of place", "UNEXPECTED_CCS_MESSAGE")
            self.ccs_received = True
            self._ignore_record("change_cipher_spec records", "UNEXPECTED_CCS_MESSAGE")
        return 0

    cdef int _ignore_record(self, str what, str reason) except -1:
        self._ignored_records += 1
        if self._ignored_records > MAX_IGNORED_RECORDS:
            raise unexpected_message("too many %s in a row" % what, reason)
        return 0

    cdef int _on_alert(self, object payload) except -1:
        if len(payload) != 2:
            raise TLSError(DECODE_ERROR, "BAD_ALERT", "alert of %d bytes" % len(payload))
        cdef int level = payload[0]
        cdef int description = payload[1]
        if description == CLOSE_NOTIFY:
            self.close_received = True
            return 0
        if level == 1 and (description == USER_CANCELED or
                           (description == NO_RENEGOTIATION and self.version == 0x0303)):
            return self._ignore_record("warning alerts", "TOO_MANY_WARN_ALERTS")  # the peer goes on
        err = TLSError(description, received_alert_reason(description),
                       "peer sent alert %s" % alert_name(description), received=True)
        self.error = err
        raise err

    # Bytes out --------------------------------------------------------------

    cpdef bytes outgoing(self):
        """All bytes waiting to be sent to the peer."""
        return self.records.take_outgoing()

    def send_handshake(self, raw):
        self.records.write_handshake(raw)

    def send_change_cipher_spec(self):
        """The middlebox-compatibility CCS: always plaintext, whatever keys are set."""
        writer = self.records.writer
        self.records.set_writer(None)
        self.records.write(CHANGE_CIPHER_SPEC, b"\x01")
        self.records.set_writer(writer)

    def send_alert(self, int description, int level=2):
        self.records.write(ALERT, bytes((level, description)))

    def abort(self, err):
        """Fail the connection with ``err``, telling the peer unless it told us."""
        if self.error is None:
            self.error = err
            if not err.received and not self.close_sent:
                try:
                    self.send_alert(err.alert)
                except TLSError:
                    pass                        # e.g. the key is exhausted: nothing more to say
                self.close_sent = True

    cpdef send(self, data):
        """Queue application data (fragmented into records)."""
        if self.error is not None:
            raise self.error
        if not self.handshake_complete:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "handshake not complete")
        if self.close_sent:
            raise TLSError(INTERNAL_ERROR, "PROTOCOL_IS_SHUTDOWN", "close_notify already sent")
        cdef RecordProtection writer = self.records.writer
        if (self.version == 0x0304
                and writer.sequence + KEY_UPDATE_MARGIN + len(data) // 16384 >= writer.limit):
            self.update_keys(False)
        self.records.write(APPLICATION_DATA, data)

    cpdef bytes read(self, Py_ssize_t n=-1):
        """Up to ``n`` bytes of received application data (all with n < 0); b"" if none."""
        return self.received.take(n)

    cpdef Py_ssize_t read_into(self, buffer, Py_ssize_t n) except -1:
        """Copy up to ``n`` bytes of received application data into the writable
        ``buffer`` (at most its size); returns the count."""
        cdef Py_buffer dest
        PyObject_GetBuffer(buffer, &dest, PyBUF_WRITABLE)
        try:
            n = min(n, dest.len, self.received.size)
            self.received.take_into(<char*>dest.buf, n)
        finally:
            PyBuffer_Release(&dest)
        return n

    @property
    def pending(self):
        """Received application data not yet read."""
        return self.received.size

    def close(self):
        """Send close_notify (half-close: we may still receive)."""
        if not self.close_sent and self.error is None:
            self.send_alert(CLOSE_NOTIFY, 1)
            self.close_sent = True

    # Keys -------------------------------------------------------------------

    cdef object _protection(self, HMACKey secret_key):
        suite = self.suite
        key, iv = keyschedule.traffic_key_iv(suite.hash_name, secret_key, suite.aead.key_length,
                                             suite.fixed_iv_length)
        return RecordProtection(suite, key, iv)

    def set_read_secret(self, secret):
        if not self.handshake_buffer.empty:
            raise unexpected_message("handshake message spans a key change",
                                     "NOT_ON_RECORD_BOUNDARY")
        self.read_secret = secret
        # During the handshake one set of HMAC states serves the key, the IV and the
        # Finished key (KeyUpdates later need only the first two).
        cdef HMACKey key = HMACKey(secret, self.suite.hash_name)
        if not self.handshake_complete:
            self._read_key = key
        self.records.set_reader(self._protection(key))

    def set_write_secret(self, secret):
        self.write_secret = secret
        cdef HMACKey key = HMACKey(secret, self.suite.hash_name)
        if not self.handshake_complete:
            self._write_key = key
        self.records.set_writer(self._protection(key))

    def finished_verify_data(self, bint writing, transcript_hash):
        """A Finished MAC (RFC 8446 4.4.4) over ``transcript_hash``, keyed by the current
        write or read traffic secret: the handshake (or, after the handshake,
        application) secret a Finished is computed with is always the one its
        direction's records are protected with."""
        return keyschedule.finished_verify_data(self.suite.hash_name, self._finished_key(writing),
                                                transcript_hash)

    cdef bytes _finished_key(self, bint writing):
        cdef HMACKey key = self._write_key if writing else self._read_key
        if key is None:                                # after keys_settled()
            secret = self.write_secret if writing else self.read_secret
            if secret is None:
                raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "no traffic secret yet")
            key = HMACKey(secret, self.suite.hash_name)
        return key.expand_label(b"finished", b"", key.hash_length)

    def keys_settled(self):
        """The handshake is over: the HMAC states of the traffic secrets go, so an idle
        connection keeps none (a post-handshake Finished derives its key again)."""
        self._read_key = self._write_key = None

    def update_keys(self, bint request_peer=False):
        """Send KeyUpdate and move our write key on (RFC 8446 4.6.3)."""
        if not self.handshake_complete or self.version != 0x0304:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR",
                           "KeyUpdate needs an established TLS 1.3 connection")
        self.send_handshake(encode_key_update(request_peer))
        self.set_write_secret(keyschedule.next_traffic_secret(self.suite.hash_name, self.write_secret))

    def on_key_update(self, body):
        """The peer's KeyUpdate: its next key for reading; answer when asked."""
        update_requested = parse_key_update(body)
        self.set_read_secret(keyschedule.next_traffic_secret(self.suite.hash_name, self.read_secret))
        if update_requested and not self.close_sent:
            self.update_keys(False)

    def log_secret(self, str label, secret):
        keylog = self.config.keylog
        if keylog is not None:
            keylog("%s %s %s" % (label, self.client_random.hex(), secret.hex()))

    def export_keying_material(self, label, context, Py_ssize_t length):
        """Keying material exporter: RFC 8446 7.5 for TLS 1.3, RFC 5705 for TLS 1.2
        (where ``context=None`` and ``context=b""`` differ, as the RFC says)."""
        if not self.handshake_complete or self.exporter_secret is None:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "no exporter before the handshake")
        if self.version == 0x0303:
            return keyschedule.export_keying_material12(
                self.suite.hash_name, self.exporter_secret, label, self.client_random,
                self.server_random, context, length)
        return keyschedule.export_keying_material(self.suite.hash_name, self.exporter_secret,
                                                  label, context, length)

    def now(self):
        clock = self.config.now
        return clock() if clock is not None else time.time()

    def __repr__(self):
        return "<cyssl Connection %s %s>" % (
            "server" if self.server_side else "client",
            "established" if self.handshake_complete else "handshaking")
