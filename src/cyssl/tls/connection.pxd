from cyssl.tls.bytequeue cimport ByteQueue
from cyssl.tls.keyschedule cimport HMACKey
from cyssl.tls.messages cimport HandshakeBuffer
from cyssl.tls.record cimport RecordLayer


cdef class Connection:
    cdef public object config                 # the server name callback may switch it
    cdef public object owner                  # the face object driving this connection
    cdef readonly bint server_side
    cdef readonly RecordLayer records
    cdef readonly HandshakeBuffer handshake_buffer
    cdef public object handshake              # the role's state machine
    cdef readonly ByteQueue received         # application data not yet read
    cdef public bint handshake_complete
    cdef public bint answer_awaited           # queued output the peer waits for (post-handshake auth)
    cdef public bint app_data_readable
    cdef public bint ccs_allowed
    cdef public bint ccs_received
    cdef readonly bint close_received
    cdef readonly bint close_sent
    cdef readonly object error
    cdef public object suite
    cdef public bytes read_secret
    cdef public bytes write_secret
    cdef HMACKey _read_key                   # read_secret's HMAC states (key, IV, Finished)
    cdef HMACKey _write_key
    cdef public object group
    cdef public object alpn_protocol
    cdef public object server_name
    cdef public list peer_chain
    cdef public list verified_chain
    cdef public int version
    cdef public bint resumed
    cdef public bytes client_random
    cdef public bytes server_random
    cdef public bytes exporter_secret
    cdef public object session
    cdef public int peer_signature_scheme
    cdef public bytes client_finished
    cdef public bytes server_finished
    cdef public list offered_suites
    cdef int _ignored_records
    cdef bint _hello_seen                   # a handshake record has arrived

    cdef int _ignore_record(self, str what, str reason) except -1

    cdef int _on_record(self, int content_type, object payload) except -1
    cdef int _on_alert(self, object payload) except -1
    cpdef bint receive(self, data) except -1
    cpdef bytes outgoing(self)
    cpdef send(self, data)
    cpdef bytes read(self, Py_ssize_t n=*)
    cpdef Py_ssize_t read_into(self, buffer, Py_ssize_t n) except -1
    cdef object _protection(self, HMACKey secret_key)
    cdef bytes _finished_key(self, bint writing)
