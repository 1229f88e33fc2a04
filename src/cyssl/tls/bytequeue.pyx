# cython: language_level=3, boundscheck=False, wraparound=False
"""ByteQueue: chunks of bytes in, one ordered byte stream out.

Two queues share it: MemoryBIO's, and a connection's received application data. Both
mostly hold one chunk at a time (a record batch, a record's payload), so the oldest
chunk has a field of its own and the list for the others is made only when a second
chunk arrives and dropped once it has drained: a steady exchange of small messages
allocates nothing here, and an idle queue holds nothing. Chunks are taken by
reference; a read that takes exactly one whole ``bytes`` chunk returns that object.

A chunk is ``bytes``, a ``bytearray`` the queue owns (``append_copy`` makes and extends
them), or a ``memoryview`` (the record layer's decryption buffer, handed over).
Indexes are checked against ``size`` and each chunk's length before use, which is why
bounds checking is off.
"""
cimport cython
from cpython.bytearray cimport (PyByteArray_AS_STRING, PyByteArray_FromStringAndSize,
                                PyByteArray_GET_SIZE, PyByteArray_Resize)
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.memoryview cimport PyMemoryView_GET_BUFFER
from libc.string cimport memcpy

# The later-chunk list is compacted once this many read slots lead it and they are at
# least half of it: a queue that never drains stays short.
cdef Py_ssize_t COMPACT_AFTER = 32


cdef inline Py_ssize_t chunk_length(chunk):
    if type(chunk) is bytes:
        return PyBytes_GET_SIZE(chunk)
    if type(chunk) is bytearray:
        return PyByteArray_GET_SIZE(chunk)
    return PyMemoryView_GET_BUFFER(chunk).len


cdef inline char* chunk_data(chunk):
    if type(chunk) is bytes:
        return PyBytes_AS_STRING(chunk)
    if type(chunk) is bytearray:
        return PyByteArray_AS_STRING(chunk)
    return <char*>PyMemoryView_GET_BUFFER(chunk).buf


@cython.no_gc          # holds bytes-like chunks only: nothing that could refer back to it
@cython.auto_pickle(False)
cdef class ByteQueue:

    def __cinit__(self):
        self._front = None
        self._rest = None
        self._rest_first = 0
        self._head = 0
        self.size = 0

    cdef int append(self, object chunk, Py_ssize_t length) except -1:
        """Queue ``chunk`` (``length`` > 0 bytes) by reference; it must not change."""
        if self._front is None:
            self._front = chunk
        elif self._rest is None:
            self._rest = [chunk]
        else:
            self._rest.append(chunk)
        self.size += length
        return 0

    cdef int append_copy(self, const char* data, Py_ssize_t length) except -1:
        """Queue a copy of ``length`` bytes: into the last chunk when it is ours or a small
        bytes object (made ours), else as a chunk of its own."""
        if length <= 0:
            return 0
        tail = self._tail()
        cdef Py_ssize_t used
        if type(tail) is bytes and PyBytes_GET_SIZE(tail) < SHARE_AT_LEAST:
            tail = PyByteArray_FromStringAndSize(PyBytes_AS_STRING(tail), PyBytes_GET_SIZE(tail))
            self._set_tail(tail)
        if type(tail) is bytearray:
            used = PyByteArray_GET_SIZE(tail)
            PyByteArray_Resize(tail, used + length)
            memcpy(PyByteArray_AS_STRING(tail) + used, data, length)
            self.size += length
        else:
            self.append(PyByteArray_FromStringAndSize(data, length), length)
        return 0

    cdef object _tail(self):
        if self._rest is not None:
            return self._rest[len(self._rest) - 1]
        return self._front

    cdef int _set_tail(self, object chunk) except -1:
        if self._rest is not None:
            self._rest[len(self._rest) - 1] = chunk
        else:
            self._front = chunk
        return 0

    cdef object take(self, Py_ssize_t n):
        """Up to ``n`` queued bytes (all of them for n < 0) as one bytes object."""
        if n < 0 or n > self.size:
            n = self.size
        if n == 0:
            return b""
        front = self._front
        if self._head == 0 and type(front) is bytes and PyBytes_GET_SIZE(front) == n:
            self._drop_front()
            self.size -= n
            return front                        # the very object queued: no copy
        cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
        self.take_into(PyBytes_AS_STRING(out), n)
        return out

    cdef int take_into(self, char* dest, Py_ssize_t n) except -1:
        """Move the next ``n`` (<= size) bytes, in order, to ``dest``."""
        cdef Py_ssize_t done = 0, step, length
        if n > self.size:
            raise ValueError("taking more than is queued")
        while done < n:
            front = self._front
            length = chunk_length(front)
            step = min(length - self._head, n - done)
            memcpy(dest + done, chunk_data(front) + self._head, step)
            done += step
            self._head += step
            if self._head == length:
                self._drop_front()
        self.size -= n
        return 0

    cdef int _drop_front(self) except -1:
        self._head = 0
        cdef list rest = self._rest
        if rest is None:
            self._front = None
            return 0
        self._front = rest[self._rest_first]
        rest[self._rest_first] = None
        self._rest_first += 1
        if self._rest_first == len(rest):
            self._rest = None
            self._rest_first = 0
        elif self._rest_first >= COMPACT_AFTER and self._rest_first * 2 >= len(rest):
            del rest[:self._rest_first]
            self._rest_first = 0
        return 0
