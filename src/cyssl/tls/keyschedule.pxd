from cyssl.crypto.sha2 cimport HashState

cpdef bytes hkdf_extract(str hash_name, salt, ikm)
cpdef bytes hkdf_expand(str hash_name, prk, info, Py_ssize_t length)
cpdef bytes hkdf_expand_label(str hash_name, secret, label, context, Py_ssize_t length)
cpdef bytes derive_secret(str hash_name, secret, label, transcript_hash)
cpdef bytes prf12(str hash_name, secret, label, seed, Py_ssize_t length)


cdef class Transcript:
    cdef HashState _hash
    cdef list _pending
    cdef readonly str hash_name

    cpdef update(self, data)
    cpdef bytes digest(self)


cdef class HMACKey:
    cdef HashState _inner                    # after the key xor ipad
    cdef HashState _outer                    # after the key xor opad
    cdef HashState _work
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
