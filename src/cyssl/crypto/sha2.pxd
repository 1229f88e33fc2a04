cdef bint available() noexcept
cdef int init_state(void *ctx, str hash_name) except -1
cdef void *new_state(str hash_name) except NULL
cdef void free_state(void *ctx) noexcept
cdef int update(void *ctx, const unsigned char *data, size_t n) except -1
cdef int copy_state(void *out, const void *src) except -1
cdef int finish(void *ctx, unsigned char *out) except -1
