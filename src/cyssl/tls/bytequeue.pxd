cdef enum:
    # Smaller bytes objects are worth copying into the tail rather than queueing: a queue
    # of many tiny chunks costs more (memory, reads that gather them) than the copies.
    SHARE_AT_LEAST = 1024


cdef class ByteQueue:
    """A FIFO of byte chunks read as one stream (MemoryBIO's, received application data)."""
    cdef object _front                       # oldest chunk, or None when empty
    cdef list _rest                          # later chunks from _rest_first on; None: none
    cdef Py_ssize_t _rest_first
    cdef Py_ssize_t _head                    # bytes of _front already taken
    cdef Py_ssize_t size                     # bytes queued

    cdef int append(self, object chunk, Py_ssize_t length) except -1
    cdef int append_copy(self, const char* data, Py_ssize_t length) except -1
    cdef object take(self, Py_ssize_t n)
    cdef int take_into(self, char* dest, Py_ssize_t n) except -1
    cdef object _tail(self)
    cdef int _set_tail(self, object chunk) except -1
    cdef int _drop_front(self) except -1
