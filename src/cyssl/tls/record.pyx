# cython: language_level=3, boundscheck=False, wraparound=False
"""The record layer: framing, deframing and AEAD protection (RFC 8446 section 5, RFC 5246 6.2).

``RecordProtection`` holds one direction's key and sequence number and seals or
opens whole records, for TLS 1.3 (inner plaintext with its content type and optional
zero padding; nonce = IV xor sequence number; AAD = the record header) and TLS 1.2
(AES-GCM with an explicit 8-byte nonce, ChaCha20-Poly1305 with an implicit one;
AAD = seq || type || version || length). ``RecordLayer`` cuts an incoming byte stream
into records, whatever the chunking, and frames outgoing data into records of at
most ``max_fragment`` plaintext bytes.

The AEAD calls go through `cryptography`'s ``encrypt_into``/``decrypt_into`` with
Spans re-pointed at our buffers, so the per-record path allocates no objects and
joins no bytes. Every length is checked against its buffer before any access, which
is why Cython's bounds checking is off here.
"""
cimport cython
from cpython.bytearray cimport (PyByteArray_AS_STRING, PyByteArray_FromStringAndSize,
                                PyByteArray_GET_SIZE, PyByteArray_Resize)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

from cyssl.crypto.aead import InvalidTag
from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport (BAD_RECORD_MAC, INTERNAL_ERROR, PROTOCOL_VERSION,
                               RECORD_OVERFLOW, UNEXPECTED_MESSAGE)
from cyssl.tls.span cimport Span

CONTENT_TYPES = {CHANGE_CIPHER_SPEC: "change_cipher_spec", ALERT: "alert",
                 HANDSHAKE: "handshake", APPLICATION_DATA: "application_data"}
MAX_PLAINTEXT_LENGTH = MAX_PLAINTEXT
cdef uint64_t SEQUENCE_MAX = 0xFFFFFFFFFFFFFFFF


cdef extern from *:
    """
    /* Whether a bytes object may be written again: only we hold it (a free-threaded
       build's reference count cannot say so). Its cached hash then goes; the field is
       deprecated since 3.11 but still there. */
    static inline int cyssl_bytes_reusable(PyObject *o) {
    #ifdef Py_GIL_DISABLED
        (void)o;
        return 0;
    #else
        if (Py_REFCNT(o) != 1)
            return 0;
    #if defined(__GNUC__)
    #pragma GCC diagnostic push
    #pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    #endif
        ((PyBytesObject *)o)->ob_shash = -1;
    #if defined(__GNUC__)
    #pragma GCC diagnostic pop
    #endif
        return 1;
    #endif
    }
    """
    bint cyssl_bytes_reusable(object o)


cdef inline void put_header(unsigned char* p, int content_type, int version,
                            Py_ssize_t length) noexcept:
    p[0] = content_type
    p[1] = version >> 8
    p[2] = version & 0xFF
    p[3] = length >> 8
    p[4] = length & 0xFF


cdef inline Py_ssize_t record_length_at(const unsigned char* p) noexcept:
    """The length, header included, of the record whose header is at ``p``."""
    return HEADER_LENGTH + ((p[3] << 8) | p[4])


cdef inline bint whole_record_at(const unsigned char* p, Py_ssize_t avail):
    """Whether the ``avail`` bytes at ``p`` hold a whole record."""
    return avail >= HEADER_LENGTH and avail >= record_length_at(p)


cdef str _not_tls_reason(const unsigned char* p):
    """OpenSSL's reason for a first record that is no TLS (5 bytes at ``p``): a plain
    HTTP request or proxy CONNECT sent to a TLS port is named as such."""
    cdef bytes start = p[:5]
    if start[:4] in (b"GET ", b"PUT ") or start in (b"POST ", b"HEAD "):
        return "HTTP_REQUEST"
    if start == b"CONNE":
        return "HTTPS_PROXY_REQUEST"
    return "WRONG_VERSION_NUMBER"


cdef inline void put_u64(unsigned char* p, uint64_t value) noexcept:
    cdef int i
    for i in range(8):
        p[i] = (value >> (56 - 8 * i)) & 0xFF


@cython.no_gc          # holds no object that could refer back to it
cdef class RecordProtection:
    """``RecordProtection(suite, key, iv, sequence=0)`` for one direction of one key.

    ``iv`` is the key schedule's IV: 12 bytes, or TLS 1.2 AES-GCM's 4-byte salt.
    """

    def __cinit__(self, suite, key, iv, uint64_t sequence=0):
        aead = suite.aead.new(key)
        self._aead = aead
        # Bound when first used: a protection only ever seals or only ever opens, and an
        # idle connection's memory is counted in bound methods too.
        self._encrypt_into = None
        self._decrypt_into = None
        self.suite = suite
        self.tls13 = suite.tls13
        self.explicit_nonce_length = suite.explicit_nonce_length
        if len(iv) != suite.fixed_iv_length:
            raise ValueError("%s needs a %d-byte IV" % (suite.name, suite.fixed_iv_length))
        cdef bytes iv_bytes = bytes(iv)
        memcpy(self._iv, <const char*>iv_bytes, len(iv_bytes))
        self._nonce = bytearray(12)
        self._nonce_ptr = <unsigned char*>PyByteArray_AS_STRING(self._nonce)
        if not self.tls13:              # TLS 1.3's additional data is the record header
            self._aad12 = bytearray(13)
            self._aad12_ptr = <unsigned char*>PyByteArray_AS_STRING(self._aad12)
        self._data = Span()
        self._dest = Span()
        self._aad = Span()
        self.sequence = sequence
        self.limit = suite.aead.confidentiality_limit

    cdef void _make_nonce(self) noexcept:
        """nonce = IV xor sequence number (TLS 1.3, TLS 1.2 ChaCha20), or for TLS 1.2
        AES-GCM salt || sequence number, which is also the explicit nonce we send."""
        cdef int i
        cdef uint64_t seq = self.sequence
        if self.explicit_nonce_length:
            memcpy(self._nonce_ptr, self._iv, 4)
            put_u64(self._nonce_ptr + 4, seq)
        else:
            memcpy(self._nonce_ptr, self._iv, 4)
            for i in range(8):
                self._nonce_ptr[4 + i] = self._iv[4 + i] ^ ((seq >> (56 - 8 * i)) & 0xFF)

    cdef int _advance(self) except -1:
        if self.sequence == SEQUENCE_MAX:
            raise TLSError(INTERNAL_ERROR, "SEQUENCE_NUMBER_EXHAUSTED",
                           "record sequence number would wrap")
        self.sequence += 1
        return 0

    cdef int _call(self, object fn) except -1:
        # The spans let go of their owners after the call (they are exported only during
        # it): a record batch we sealed is then held by its consumers alone, and may be
        # sealed into again once they are done (RecordLayer._spare_for).
        try:
            fn(self._nonce, self._data, self._aad, self._dest)
        finally:
            self._data.clear()
            self._aad.clear()
            self._dest.clear()
        return 0

    cdef Py_ssize_t overhead(self):
        """Bytes a record adds to its plaintext (padding aside)."""
        return HEADER_LENGTH + self.explicit_nonce_length + TAG_LENGTH + (1 if self.tls13 else 0)

    cdef Py_ssize_t seal(self, int content_type, const unsigned char* data, Py_ssize_t length,
                         object out_owner, unsigned char* out) except -1:
        """Write one protected record for ``data`` at ``out`` (which has room for
        ``length + overhead()`` bytes); returns the record's length."""
        cdef Py_ssize_t body
        if self.sequence >= self.limit:
            raise TLSError(INTERNAL_ERROR, "KEY_USAGE_LIMIT_REACHED",
                           "this key has protected as many records as it safely may")
        self._make_nonce()
        if self.tls13:
            # Inner plaintext = content || type, encrypted in place after the header.
            body = length + 1 + TAG_LENGTH
            put_header(out, APPLICATION_DATA, 0x0303, body)
            if out + HEADER_LENGTH != data:
                memcpy(out + HEADER_LENGTH, data, length)
            out[HEADER_LENGTH + length] = content_type
            self._data.point(out_owner, <char*>out + HEADER_LENGTH, length + 1, True)
            self._aad.point(out_owner, <char*>out, HEADER_LENGTH, True)
            self._dest.point(out_owner, <char*>out + HEADER_LENGTH, body, False)
        else:
            body = self.explicit_nonce_length + length + TAG_LENGTH
            put_header(out, content_type, 0x0303, body)
            if self.explicit_nonce_length:
                memcpy(out + HEADER_LENGTH, self._nonce_ptr + 4, 8)
            put_u64(self._aad12_ptr, self.sequence)
            put_header(self._aad12_ptr + 8, content_type, 0x0303, length)
            self._data.point(None, <char*>data, length, True)
            self._aad.point(self._aad12, <char*>self._aad12_ptr, 13, True)
            self._dest.point(out_owner, <char*>out + HEADER_LENGTH + self.explicit_nonce_length,
                             length + TAG_LENGTH, False)
        if self._encrypt_into is None:
            self._encrypt_into = self._aead.encrypt_into
        self._call(self._encrypt_into)
        self._advance()
        return HEADER_LENGTH + body

    cdef Py_ssize_t open(self, object owner, unsigned char* record, Py_ssize_t record_length,
                         unsigned char* out, int* content_type,
                         Py_ssize_t inner_limit=MAX_PLAINTEXT + 1) except -1:
        """Authenticate and decrypt one whole record (header included) into ``out``
        (room for record_length bytes); returns the content length and sets its type."""
        cdef Py_ssize_t body = record_length - HEADER_LENGTH
        cdef Py_ssize_t cipher_length = body - self.explicit_nonce_length
        cdef Py_ssize_t n
        cdef int ctype = record[0]
        if cipher_length < TAG_LENGTH + (1 if self.tls13 else 0):
            raise TLSError(BAD_RECORD_MAC, "DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
                           "protected record too short to hold a tag")
        n = cipher_length - TAG_LENGTH
        if self.explicit_nonce_length:
            memcpy(self._nonce_ptr, self._iv, 4)
            memcpy(self._nonce_ptr + 4, record + HEADER_LENGTH, 8)
        else:
            self._make_nonce()
        if self.tls13:
            self._aad.point(owner, <char*>record, HEADER_LENGTH, True)
        else:
            put_u64(self._aad12_ptr, self.sequence)
            put_header(self._aad12_ptr + 8, ctype, 0x0303, n)
            self._aad.point(self._aad12, <char*>self._aad12_ptr, 13, True)
        self._data.point(owner, <char*>record + HEADER_LENGTH + self.explicit_nonce_length,
                         cipher_length, True)
        self._dest.point(owner, <char*>out, n, False)
        try:
            if self._decrypt_into is None:
                self._decrypt_into = self._aead.decrypt_into
            self._call(self._decrypt_into)
        except InvalidTag:
            raise TLSError(BAD_RECORD_MAC, "DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
                           "record failed authentication") from None
        self._advance()
        if self.tls13:
            if n > inner_limit:
                # RFC 8446 5.4 / RFC 8449: TLSInnerPlaintext (content, type, padding) is at
                # most 2^14 + 1 bytes, or the record_size_limit we announced.
                raise TLSError(RECORD_OVERFLOW, "DATA_LENGTH_TOO_LONG",
                               "inner plaintext of %d bytes exceeds %d" % (n, inner_limit))
            # Strip the zero padding; the last non-zero byte is the real content type.
            while n > 0 and out[n - 1] == 0:
                n -= 1
            if n == 0:
                raise TLSError(UNEXPECTED_MESSAGE, "NO_CONTENT_TYPE",
                               "protected record has no content type")
            n -= 1
            ctype = out[n]
            if ctype < CHANGE_CIPHER_SPEC or ctype > APPLICATION_DATA:
                raise TLSError(UNEXPECTED_MESSAGE, "BAD_RECORD_TYPE",
                               "unknown inner content type %d" % ctype)
        content_type[0] = ctype
        return n

    # Python-level entry points (tests, benchmarks and tools).

    def seal_into(self, int content_type, data, out, Py_ssize_t offset=0):
        """Write a protected record for ``data`` into writable buffer ``out`` at ``offset``;
        returns its length."""
        cdef Py_buffer src, dst
        cdef Py_ssize_t n
        PyObject_GetBuffer(data, &src, PyBUF_SIMPLE)
        try:
            PyObject_GetBuffer(out, &dst, PyBUF_WRITABLE)
            try:
                if src.len > MAX_PLAINTEXT:
                    raise ValueError("record plaintext over 2^14 bytes")
                if offset < 0 or dst.len - offset < src.len + self.overhead():
                    raise ValueError("output buffer too small")
                n = self.seal(content_type, <const unsigned char*>src.buf, src.len,
                              out, <unsigned char*>dst.buf + offset)
            finally:
                PyBuffer_Release(&dst)
        finally:
            PyBuffer_Release(&src)
        return n

    def open_into(self, record, out):
        """Open the whole protected record in ``record`` into writable ``out``;
        returns ``(content_type, length)``."""
        cdef Py_buffer src, dst
        cdef int ctype = 0
        cdef Py_ssize_t n
        PyObject_GetBuffer(record, &src, PyBUF_SIMPLE)
        try:
            PyObject_GetBuffer(out, &dst, PyBUF_WRITABLE)
            try:
                if src.len < HEADER_LENGTH:
                    raise ValueError("not a whole record")
                if dst.len < src.len - HEADER_LENGTH - self.explicit_nonce_length - TAG_LENGTH:
                    raise ValueError("output buffer too small")
                n = self.open(record, <unsigned char*>src.buf, src.len, <unsigned char*>dst.buf, &ctype)
            finally:
                PyBuffer_Release(&dst)
        finally:
            PyBuffer_Release(&src)
        return ctype, n

    def seal_record(self, int content_type, data):
        """One protected record as bytes."""
        out = bytearray(len(data) + self.overhead())
        return bytes(out[:self.seal_into(content_type, data, out)])

    def open_record(self, record):
        """``(content_type, plaintext bytes)`` of one whole protected record."""
        out = bytearray(max(len(record) - HEADER_LENGTH, 0))
        ctype, n = self.open_into(record, out)
        return ctype, bytes(out[:n])

    @property
    def exhausted(self):
        """True once this key has reached its usage limit: time for a KeyUpdate."""
        return self.sequence >= self.limit


cdef class RecordLayer:
    """``receive(bytes)`` then ``next_record()`` until None; ``write(type, data)`` then
    ``take_outgoing()``. Protection is switched per direction with ``set_reader`` /
    ``set_writer`` (None means plaintext, as before the first key)."""

    def __cinit__(self):
        self._incoming = bytearray()
        self._in_start = 0
        self._borrowed = None
        self._borrow_start = 0
        self._outgoing = bytearray()
        self._sealed = None
        self._plain = None
        self.reader = None
        self.writer = None
        self.max_fragment = MAX_PLAINTEXT
        self.receive_limit = MAX_PLAINTEXT
        self.plaintext_version = 0x0303
        self.plaintext_alerts = False
        self._direct_room = 0
        self._direct = NULL
        self._direct_nul = False
        self._direct_owner = None
        self._direct_delivered = 0
        self._direct_bytes = None
        self._flight = None

    def set_reader(self, RecordProtection protection):
        self.reader = protection

    def set_writer(self, RecordProtection protection):
        self._flush_flight()                  # what was written goes under the old key
        self.writer = protection

    @property
    def incoming_size(self):
        """Received bytes not yet returned as records."""
        cdef Py_ssize_t n = PyByteArray_GET_SIZE(self._incoming) - self._in_start
        if self._borrowed is not None:
            n += PyBytes_GET_SIZE(self._borrowed) - self._borrow_start
        return n

    cdef bint has_outgoing(self):
        """Whether outgoing_size would be above zero (without making an int)."""
        return (PyByteArray_GET_SIZE(self._outgoing) > 0 or self._sealed is not None
                or self._flight is not None)

    @property
    def outgoing_size(self):
        """Bytes waiting to be sent (a flight not yet framed counts without its headers)."""
        return PyByteArray_GET_SIZE(self._outgoing) + (
            PyBytes_GET_SIZE(self._sealed) if self._sealed is not None else 0) + (
            PyByteArray_GET_SIZE(self._flight) if self._flight is not None else 0)

    cdef int _unborrow(self) except -1:
        """Move the unparsed rest of a borrowed bytes object into the receive buffer."""
        if self._borrowed is not None:
            self._incoming += self._borrowed[self._borrow_start:]
            self._borrowed = None
        return 0

    cdef void direct_to(self, object owner, unsigned char* dest, Py_ssize_t room,
                        bint nul_after) noexcept:
        """Hand the next protected application data record straight to a reader waiting
        with room for ``room`` (> 0) bytes, if its plaintext fits: decrypted into ``dest``
        (kept alive by ``owner``) or, when ``dest`` is NULL, into a new bytes object of its
        size (``take_direct_bytes()``). This saves the copy out of our buffer and the
        queue. Into a buffer, the records that follow go on after it while they fit.
        ``nul_after``: ``dest[room]`` is a terminating NUL (a whole bytearray's) that may
        hold TLS 1.3's content type byte and is put back. Until ``direct_done()``."""
        self._direct_room = room
        self._direct = dest
        self._direct_nul = nul_after
        self._direct_owner = owner
        self._direct_delivered = 0
        self._direct_bytes = None

    cdef Py_ssize_t direct_done(self):
        """Bytes delivered to the ``direct_to`` reader (0 if none); it waits no more."""
        cdef Py_ssize_t n = self._direct_delivered
        self._stop_direct()
        self._direct_delivered = 0
        return n

    cdef bytes take_direct_bytes(self):
        """The bytes object delivered to a ``direct_to`` reader without a buffer."""
        cdef bytes data = self._direct_bytes
        self._direct_bytes = None
        return data

    cdef void _stop_direct(self) noexcept:
        self._direct_room = 0
        self._direct = NULL
        self._direct_nul = False
        self._direct_owner = None

    cpdef release_payload(self):
        """The payload next_record() just returned is the caller's to keep: its buffer
        is not reused (the next record gets a new one)."""
        self._plain = None
        self._plain_view = None

    cdef int _rest(self) except -1:
        """No whole record is buffered: the last payload is no longer ours to keep
        (its view was valid until this call), so an idle connection holds no buffers
        beyond a partial record."""
        if self._in_start and self._in_start == PyByteArray_GET_SIZE(self._incoming):
            self._incoming = bytearray()
            self._in_start = 0
        self._unborrow()
        self._plain = None
        self._plain_view = None
        return 0

    cpdef bytes peek(self, Py_ssize_t n):
        """The first ``n`` received bytes not yet returned as records (fewer if not there)."""
        self._unborrow()
        return bytes(self._incoming[self._in_start:self._in_start + n])

    cpdef receive(self, data):
        """Buffer received bytes (any chunking: partial records, several records).

        A ``bytes`` object is parsed in place, without a copy (bytes cannot change under
        us), from where it completes the record left partial before it: only the bytes
        completing that record and an incomplete tail are ever copied. (A socket read
        seldom ends on a record boundary; copying every read behind the tail of the one
        before cost a copy of all the data.)"""
        cdef Py_ssize_t taken
        if self._in_start:
            del self._incoming[:self._in_start]   # O(1): bytearray moves its start
            self._in_start = 0
        if type(data) is bytes and self._borrowed is None:
            taken = self._complete_partial(<bytes>data)
            if taken < PyBytes_GET_SIZE(data):
                self._borrowed = <bytes>data
                self._borrow_start = taken
            return
        self._unborrow()
        self._incoming += data

    cdef Py_ssize_t _complete_partial(self, bytes data) except -1:
        """Append to the receive buffer as much of ``data`` as the record partly in it
        needs (its header first); the bytes taken. Whole records there need nothing."""
        cdef Py_ssize_t before = PyByteArray_GET_SIZE(self._incoming)
        try:
            return self._complete_from(<const unsigned char*>PyBytes_AS_STRING(data),
                                       PyBytes_GET_SIZE(data))
        except BaseException:
            PyByteArray_Resize(self._incoming, before)      # all of ``data`` or none of it
            raise

    cdef Py_ssize_t _complete_from(self, const unsigned char* src, Py_ssize_t total) except -1:
        cdef Py_ssize_t have, need, start = 0, taken = 0
        cdef const unsigned char* p
        while True:
            have = PyByteArray_GET_SIZE(self._incoming)
            p = <const unsigned char*>PyByteArray_AS_STRING(self._incoming)
            while have - start >= HEADER_LENGTH and whole_record_at(p + start, have - start):
                start += record_length_at(p + start)
            if start == have or taken == total:
                return taken                   # nothing partial (or no more data)
            if have - start < HEADER_LENGTH:
                need = HEADER_LENGTH - (have - start)
            else:
                need = record_length_at(p + start) - (have - start)
            need = min(need, total - taken)
            PyByteArray_Resize(self._incoming, have + need)
            memcpy(PyByteArray_AS_STRING(self._incoming) + have, src + taken, need)
            taken += need

    def next_record(self):
        """The next whole record as ``(content_type, payload)``, or None until more bytes
        arrive. ``payload`` is bytes (up to SMALL_PAYLOAD) or a memoryview valid until
        the next call."""
        cdef int content_type
        payload = self.next_payload(&content_type)
        return (content_type, payload) if content_type else None

    cdef object next_payload(self, int* content_type):
        """next_record() without the tuple: the payload, with ``content_type`` set to the
        record's type, or to 0 when no whole record is buffered yet."""
        content_type[0] = 0
        cdef object owner
        cdef Py_ssize_t avail
        cdef unsigned char* p
        cdef int ctype, limit
        cdef Py_ssize_t length, n
        # The receive buffer (a record completed there) comes before a borrowed object.
        if self._borrowed is not None and self._in_start == PyByteArray_GET_SIZE(self._incoming):
            owner = self._borrowed
            avail = PyBytes_GET_SIZE(self._borrowed) - self._borrow_start
            p = <unsigned char*>PyBytes_AS_STRING(self._borrowed) + self._borrow_start
        else:
            owner = self._incoming
            avail = PyByteArray_GET_SIZE(self._incoming) - self._in_start
            p = <unsigned char*>PyByteArray_AS_STRING(self._incoming) + self._in_start
        if avail < HEADER_LENGTH:
            self._rest()
            return None
        ctype = p[0]
        length = (p[3] << 8) | p[4]
        # Judge the header before waiting for the body, so junk fails at once.
        if p[1] != 3:
            raise TLSError(PROTOCOL_VERSION, _not_tls_reason(p) if self.reader is None
                           else "WRONG_VERSION_NUMBER", "not a TLS record (version byte %d)" % p[1])
        if ctype < CHANGE_CIPHER_SPEC or ctype > APPLICATION_DATA:
            raise TLSError(UNEXPECTED_MESSAGE, "BAD_RECORD_TYPE", "unknown record type %d" % ctype)
        cdef bint protected = self.reader is not None and not (self.reader.tls13 and (
            ctype == CHANGE_CIPHER_SPEC or (ctype == ALERT and self.plaintext_alerts and length == 2)))
        if protected and not self.reader.tls13 and p[2] != 3:
            # TLS 1.2 records carry the negotiated version (and the AAD repeats it).
            raise TLSError(PROTOCOL_VERSION, "WRONG_VERSION_NUMBER",
                           "record version 3.%d on a TLS 1.2 connection" % p[2])
        if not protected:
            limit = MAX_PLAINTEXT
        elif self.reader.tls13:
            limit = MAX_CIPHERTEXT_TLS13
        else:
            limit = MAX_CIPHERTEXT_TLS12
        if length > limit:
            raise TLSError(RECORD_OVERFLOW, "PACKET_LENGTH_TOO_LONG" if not protected
                           else "ENCRYPTED_LENGTH_TOO_LONG",
                           "record of %d bytes exceeds the limit of %d" % (length, limit))
        if avail < HEADER_LENGTH + length:
            self._rest()
            return None
        # The inner plaintext a protected record decrypts to (content, and in TLS 1.3
        # its type and padding) is its body less the explicit nonce and the tag.
        cdef Py_ssize_t inner = length - (self.reader.explicit_nonce_length + TAG_LENGTH
                                          if protected else 0)
        # A waiting reader gets application data directly: decrypted in place when it fits
        # whole, else (a TLS 1.3 record one byte too big for a 16 KiB buffer that is not a
        # whole bytearray, a padded one) copied out of our buffer, which then serves the
        # next record too. TLS 1.3's trailing content type needs no room of the reader's
        # where the buffer ends in a terminating NUL: a new bytes object's (CPython:
        # ob_sval[ob_size] == 0) or a whole bytearray's (ob_start[ob_size] == 0, inside its
        # allocation; the reader's export keeps it from being resized meanwhile). That byte
        # holds the type until it is restored, as soon as the record is opened. A reader
        # without a buffer gets its own bytes object only for a record no other whole
        # record follows: from a batch it gets all the records' data in one bytes object
        # from the queue instead (one copy, where two objects would cost asyncio a join).
        cdef Py_ssize_t most = inner - 1 if protected and self.reader.tls13 else inner
        cdef bint to_reader = (protected and self._direct_room > 0 and ctype == APPLICATION_DATA
                               and most > 0 and (self._direct != NULL or not self._whole_record_after(
                                   owner, p + HEADER_LENGTH + length, avail - HEADER_LENGTH - length)))
        cdef bint in_place = to_reader and most <= self._direct_room and (
            self._direct == NULL or inner <= self._direct_room + self._direct_nul)
        cdef bytes fresh = None
        if in_place and self._direct == NULL:
            fresh = PyBytes_FromStringAndSize(NULL, most)
        if not in_place:
            self._ensure_plain(length)
        if owner is self._borrowed:
            self._borrow_start += HEADER_LENGTH + length
            if self._borrow_start == PyBytes_GET_SIZE(self._borrowed):
                self._borrowed = None
        else:
            self._in_start += HEADER_LENGTH + length
        cdef unsigned char* plain
        if not in_place:
            plain = <unsigned char*>PyByteArray_AS_STRING(self._plain)
        elif fresh is not None:
            plain = <unsigned char*>PyBytes_AS_STRING(fresh)
        else:
            plain = self._direct
        if not in_place:
            n = self._unprotect(owner, p, length, plain, &ctype, protected)
        else:
            try:
                n = self._unprotect(owner, p, length, plain, &ctype, protected)
            except BaseException:
                memset(plain, 0, inner)  # nothing unauthenticated stays in the reader's buffer
                raise
            if inner > (most if fresh is not None else self._direct_room):
                plain[inner - 1] = 0     # a borrowed NUL (it held the last inner byte)
        if to_reader and ctype == APPLICATION_DATA and 0 < n <= self._direct_room:
            if fresh is not None:
                self._direct_bytes = fresh if n == PyBytes_GET_SIZE(fresh) else fresh[:n]
            elif in_place:
                memset(plain + n, 0, inner - n)      # the inner content type and padding
            elif self._direct == NULL:
                self._direct_bytes = PyBytes_FromStringAndSize(<char*>plain, n)
            else:
                memcpy(self._direct, plain, n)
            self._direct_delivered += n
            if self._direct == NULL:
                self._stop_direct()                  # one record, in its own bytes object
            else:
                # The records after it in this batch may follow it into the buffer's rest
                # (rather than each into a buffer of ours, queued, then copied out).
                self._direct += n
                self._direct_room -= n
                if not self._direct_room:
                    self._stop_direct()
            content_type[0] = APPLICATION_DATA
            return None
        if in_place:
            # Something else (a post-handshake message, an alert, empty data) goes
            # through our own buffer like any other record; none of it stays in the
            # reader's, even if that buffer cannot be made.
            try:
                self._ensure_plain(length)
                memcpy(PyByteArray_AS_STRING(self._plain), plain, n)
            finally:
                memset(plain, 0, inner)
        if n == 0 and (ctype == HANDSHAKE or ctype == ALERT):
            # RFC 8446 section 5.1: no zero-length handshake (or alert) fragments.
            raise TLSError(UNEXPECTED_MESSAGE, "BAD_LENGTH",
                           "zero-length %s record" % CONTENT_TYPES[ctype])
        content_type[0] = ctype
        if ctype == APPLICATION_DATA and n > 0 and self._direct_room > 0:
            # This data is queued: a later record must not overtake it to the reader.
            self._stop_direct()
        if n <= SMALL_PAYLOAD:
            # A small payload is copied into bytes: cheaper than a view, and the caller
            # may keep it while our buffer serves the next record.
            return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(self._plain), n)
        if self._plain_view is None:
            self._plain_view = memoryview(self._plain)
        return self._plain_view[:n]

    cdef bint _whole_record_after(self, object owner, const unsigned char* p, Py_ssize_t avail):
        """Whether a whole record follows the one being read (``avail`` bytes at ``p`` left
        in ``owner``, then a borrowed object if ``owner`` is the receive buffer)."""
        if avail > 0 or owner is self._borrowed or self._borrowed is None:
            return whole_record_at(p, avail)
        return whole_record_at(<const unsigned char*>PyBytes_AS_STRING(self._borrowed) + self._borrow_start,
                               PyBytes_GET_SIZE(self._borrowed) - self._borrow_start)

    cdef Py_ssize_t _unprotect(self, object owner, unsigned char* p, Py_ssize_t length,
                               unsigned char* plain, int* ctype, bint protected) except -1:
        """The record at ``p`` (header included) opened or copied into ``plain``; its
        content length, with ``ctype`` set to the (inner) content type."""
        cdef Py_ssize_t n
        if protected:
            if self.reader.tls13 and ctype[0] != APPLICATION_DATA:
                raise TLSError(UNEXPECTED_MESSAGE, "UNEXPECTED_RECORD",
                               "unprotected %s record after keys were set" % CONTENT_TYPES[ctype[0]])
            n = self.reader.open(owner, p, HEADER_LENGTH + length, plain, ctype,
                                 self.receive_limit + 1)
            self.plaintext_alerts = False        # the peer has our keys: no more plaintext
            if ctype[0] == CHANGE_CIPHER_SPEC and self.reader.tls13:
                raise TLSError(UNEXPECTED_MESSAGE, "UNEXPECTED_RECORD", "protected change_cipher_spec")
        else:
            n = length
            memcpy(plain, p + HEADER_LENGTH, n)
        if n > self.receive_limit:
            raise TLSError(RECORD_OVERFLOW, "DATA_LENGTH_TOO_LONG",
                           "record plaintext of %d bytes exceeds %d" % (n, self.receive_limit))
        return n

    cdef int _ensure_plain(self, Py_ssize_t length) except -1:
        if self._plain is None or PyByteArray_GET_SIZE(self._plain) < length:
            # Plaintext is never longer than its record; uninitialised, as it is
            # written before it is read.
            self._plain = PyByteArray_FromStringAndSize(NULL, max(length, MIN_PLAIN_BUFFER))
            self._plain_view = None                # made when a payload needs it
        return 0

    cpdef write(self, int content_type, data):
        """Frame ``data`` into records of at most ``max_fragment`` bytes, protected when a
        writer is set, appended to the outgoing stream. Empty data makes one empty record.

        A write into an empty stream is sealed straight into a new bytes object, which
        ``take_outgoing()`` then hands over without a copy; only a second write before
        that joins the two in the byte stream."""
        cdef Py_buffer src
        cdef Py_ssize_t used, total, records
        cdef bytes sealed
        if self.max_fragment < 1 or self.max_fragment > MAX_PLAINTEXT:
            raise ValueError("max_fragment must be within 1..16384")
        self._flush_flight()                  # records go out in the order written
        cdef Py_ssize_t overhead = self.writer.overhead() if self.writer is not None else HEADER_LENGTH
        PyObject_GetBuffer(data, &src, PyBUF_SIMPLE)
        try:
            records = max(1, (src.len + self.max_fragment - 1) // self.max_fragment)
            total = src.len + records * overhead
            if self._sealed is None and not PyByteArray_GET_SIZE(self._outgoing):
                sealed = self._spare_for(total)
                self._frame(content_type, &src, sealed, <unsigned char*>PyBytes_AS_STRING(sealed))
                self._sealed = sealed
                return
            self._unseal()
            used = PyByteArray_GET_SIZE(self._outgoing)
            PyByteArray_Resize(self._outgoing, used + total)
            try:
                self._frame(content_type, &src, self._outgoing,
                            <unsigned char*>PyByteArray_AS_STRING(self._outgoing) + used)
            except BaseException:
                PyByteArray_Resize(self._outgoing, used)   # all of ``data`` or none of it
                raise
        finally:
            PyBuffer_Release(&src)

    cpdef write_handshake(self, data):
        """Protected handshake messages written one after another under the same key
        share records (as BoringSSL packs a flight): one seal and one open instead of one
        per message. They are framed at the next key change, other write or
        take_outgoing(). Plaintext messages (hellos, the TLS 1.2 server flight) keep a
        record each, and ``write(HANDSHAKE, ...)`` always frames at once."""
        if self.writer is None or not len(data):
            self.write(HANDSHAKE, data)
        elif self._flight is None:
            self._flight = bytearray(data)
        else:
            self._flight += data

    cdef int _flush_flight(self) except -1:
        if self._flight is None:
            return 0
        cdef bytearray flight = self._flight
        self._flight = None
        self.write(HANDSHAKE, flight)
        return 0

    cdef int _frame(self, int content_type, Py_buffer* src, object owner,
                    unsigned char* out) except -1:
        """The records for ``src``, one after another at ``out`` (which has room)."""
        cdef Py_ssize_t done = 0, frag
        while True:
            frag = min(src.len - done, <Py_ssize_t>self.max_fragment)
            if self.writer is None:
                put_header(out, content_type, self.plaintext_version, frag)
                memcpy(out + HEADER_LENGTH, <const unsigned char*>src.buf + done, frag)
                out += HEADER_LENGTH + frag
            else:
                out += self.writer.seal(content_type, <const unsigned char*>src.buf + done, frag,
                                        owner, out)
            done += frag
            if done >= src.len:
                return 0

    cdef bytes _spare_for(self, Py_ssize_t size):
        """A ``size``-byte bytes object to seal a batch into: the last one-record batch
        handed out when every other holder has let go of it (as CPython itself reuses a
        bytes object only it references), else a new one. Bulk writes then seal into the
        same 16 KiB object each time instead of a malloc and a free per record."""
        cdef bytes spare = self._spare
        self._spare = None
        if spare is not None and PyBytes_GET_SIZE(spare) == size and cyssl_bytes_reusable(spare):
            return spare
        return PyBytes_FromStringAndSize(NULL, size)

    cdef int _unseal(self) except -1:
        """Move a sealed batch into the byte stream, before anything is appended."""
        if self._sealed is not None:
            self._outgoing += self._sealed
            self._sealed = None
        return 0

    cpdef bytes take_outgoing(self):
        """All framed bytes waiting to be sent; the stream is emptied."""
        self._flush_flight()
        cdef bytes data = self._sealed
        if data is not None:                  # then the byte stream is empty
            self._sealed = None
            if MAX_PLAINTEXT < PyBytes_GET_SIZE(data) <= HEADER_LENGTH + MAX_CIPHERTEXT_TLS12:
                # One full record: kept for the next one (at most this much stays with an
                # idle connection; larger batches are let go).
                self._spare = data
            return data
        data = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(self._outgoing),
                                         PyByteArray_GET_SIZE(self._outgoing))
        PyByteArray_Resize(self._outgoing, 0)
        return data
