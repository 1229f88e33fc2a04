cdef class HashState:
    cdef void *_ctx             # libcrypto's EVP_MD_CTX, or NULL and ...
    cdef object _hashlib        # ... a hashlib object where libcrypto cannot be reached
    cdef readonly str name
    cdef readonly int digest_size, block_size

    cdef int reset(self) except -1
    cdef int update(self, const unsigned char *data, size_t n) except -1
    cdef int update_bytes(self, data) except -1
    cdef int copy_from(self, HashState other) except -1
    cdef HashState copy(self)
    cdef int finish_into(self, unsigned char *out) except -1
    cdef bytes digest(self)
