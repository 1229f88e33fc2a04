cdef class Span:
    """A reusable window (pointer, length) exported through the buffer protocol."""
    cdef char* ptr
    cdef Py_ssize_t length
    cdef bint readonly
    cdef int exports
    cdef object owner

    cdef inline void point(self, object owner, char* ptr, Py_ssize_t length,
                           bint readonly) noexcept:
        self.owner = owner
        self.ptr = ptr
        self.length = length
        self.readonly = readonly

    cdef inline void clear(self) noexcept:
        """Point nowhere, letting go of the owner."""
        self.owner = None
        self.ptr = NULL
        self.length = 0
