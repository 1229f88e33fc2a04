cpdef bytes hkdf_extract(str hash_name, salt, ikm)
cpdef bytes hkdf_expand(str hash_name, prk, info, Py_ssize_t length)
cpdef bytes hkdf_expand_label(str hash_name, secret, label, context, Py_ssize_t length)
cpdef bytes derive_secret(str hash_name, secret, label, transcript_hash)
cpdef bytes prf12(str hash_name, secret, label, seed, Py_ssize_t length)


cdef class Transcript:
    cdef object _hash
    cdef list _pending
    cdef readonly str hash_name

    cpdef update(self, data)
    cpdef bytes digest(self)


cdef class HMACKey:
    cdef void *_inner_state                  # libcrypto states (cyssl.crypto.sha2) ...
    cdef void *_outer_state
    cdef void *_work_state
    cdef object _inner                       # ... or hashlib objects where it is missing
    cdef object _outer
    cdef readonly str hash_name
    cdef int hash_length

    cdef bytes mac(self, msg)
    cdef bytes expand_label(self, label, context, Py_ssize_t length)


cdef class KeySchedule:
    cdef readonly str hash_name
    cdef readonly int hash_length
    cdef bytes _secret
    cdef HMACKey _key
    cdef int _stage
    cdef bint _without_psk
    cdef bytes _empty_hash

    cdef int _require(self, int stage) except -1
    cdef _set_secret(self, bytes secret)
