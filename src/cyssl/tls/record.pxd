cimport cython
from libc.stdint cimport uint64_t

from cyssl.tls.span cimport Span


cdef enum ContentType:
    CHANGE_CIPHER_SPEC = 20
    ALERT = 21
    HANDSHAKE = 22
    APPLICATION_DATA = 23

cdef enum RecordSizes:
    HEADER_LENGTH = 5
    MAX_PLAINTEXT = 16384                    # 2^14
    MAX_CIPHERTEXT_TLS13 = 16384 + 256       # RFC 8446 section 5.2
    MAX_CIPHERTEXT_TLS12 = 16384 + 2048      # RFC 5246 section 6.2.3
    TAG_LENGTH = 16
    MIN_PLAIN_BUFFER = 512               # smallest decryption buffer allocated
    SMALL_PAYLOAD = 2048                 # payloads next_record() copies into bytes


@cython.final        # not subclassed: its own calls compile to direct C calls
cdef class RecordProtection:
    """One direction's AEAD state for one key: seals or opens whole records."""
    cdef object _aead
    cdef object _encrypt_into                # the AEAD's bound methods, made on first use
    cdef object _decrypt_into
    cdef bytearray _nonce                    # 12 bytes, rewritten per record
    cdef unsigned char* _nonce_ptr
    cdef bytearray _aad12                    # TLS 1.2 additional data (13 bytes)
    cdef unsigned char* _aad12_ptr
    cdef unsigned char _iv[12]
    cdef Span _data
    cdef Span _dest
    cdef Span _aad
    cdef readonly bint tls13
    cdef readonly int explicit_nonce_length  # 8 for TLS 1.2 AES-GCM, else 0
    cdef readonly uint64_t sequence
    cdef readonly uint64_t limit
    cdef readonly object suite

    cdef void _make_nonce(self) noexcept
    cdef int _advance(self) except -1
    cdef int _call(self, object fn) except -1
    cdef Py_ssize_t overhead(self)
    cdef Py_ssize_t seal(self, int content_type, const unsigned char* data, Py_ssize_t length,
                         object out_owner, unsigned char* out) except -1
    cdef Py_ssize_t open(self, object owner, unsigned char* record, Py_ssize_t record_length,
                         unsigned char* out, int* content_type,
                         Py_ssize_t inner_limit=*) except -1


@cython.final        # not subclassed: its own calls compile to direct C calls
cdef class RecordLayer:
    """Turns a byte stream into records and records into a byte stream (one connection)."""
    cdef bytearray _incoming
    cdef Py_ssize_t _in_start
    cdef bytes _borrowed                     # a received bytes object parsed in place
    cdef Py_ssize_t _borrow_start
    cdef bytearray _outgoing
    cdef bytes _spare                        # a one-record batch handed out, to reuse
    cdef bytes _sealed                       # a large write sealed into its own bytes
    cdef bytearray _plain                    # decrypted payload of the last record
    cdef object _plain_view
    cdef readonly RecordProtection reader
    cdef readonly RecordProtection writer
    cdef public int max_fragment             # outgoing plaintext per record
    cdef public int receive_limit            # largest plaintext accepted per record
    cdef public int plaintext_version        # legacy_record_version of unprotected records
    cdef public bint plaintext_alerts        # a TLS 1.3 peer may still alert without keys
    cdef bytearray _flight                   # protected handshake messages not yet framed
    # A reader waits for the next application data record, with room for this much (0: none).
    cdef Py_ssize_t _direct_room
    cdef unsigned char* _direct              # its buffer (NULL: a new bytes object)
    cdef bint _direct_nul                    # _direct[_direct_room] is a NUL we may borrow
    cdef object _direct_owner
    cdef Py_ssize_t _direct_delivered
    cdef bytes _direct_bytes                 # the new bytes object delivered

    cdef int _unborrow(self) except -1
    cdef void direct_to(self, object owner, unsigned char* dest, Py_ssize_t room,
                        bint nul_after) noexcept
    cdef Py_ssize_t direct_done(self)
    cdef bytes take_direct_bytes(self)
    cdef void _stop_direct(self) noexcept
    cdef int _rest(self) except -1
    cdef int _ensure_plain(self, Py_ssize_t length) except -1
    cdef bint _whole_record_after(self, object owner, const unsigned char* p, Py_ssize_t avail)
    cdef Py_ssize_t _unprotect(self, object owner, unsigned char* p, Py_ssize_t length,
                               unsigned char* plain, int* ctype, bint protected) except -1
    cpdef bytes peek(self, Py_ssize_t n)
    cpdef receive(self, data)
    cdef Py_ssize_t _complete_partial(self, bytes data) except -1
    cdef Py_ssize_t _complete_from(self, const unsigned char* src, Py_ssize_t total) except -1
    cdef object next_payload(self, int* content_type)
    cpdef release_payload(self)
    cdef bint has_outgoing(self)
    cpdef write(self, int content_type, data)
    cpdef write_handshake(self, data)
    cdef int _flush_flight(self) except -1
    cdef int _frame(self, int content_type, Py_buffer* src, object owner,
                    unsigned char* out) except -1
    cdef bytes _spare_for(self, Py_ssize_t size)
    cdef int _unseal(self) except -1
    cpdef bytes take_outgoing(self)
