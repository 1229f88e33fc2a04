# cython: language_level=3
"""A window onto engine memory that `cryptography` can read and write.

cryptography's ``encrypt_into``/``decrypt_into`` take buffer-protocol objects whose
length must match exactly. Slicing a memoryview per record costs an object each
time; a Span is created once per direction and re-pointed before every call, so the
record hot path allocates nothing. ``owner`` keeps the memory alive while the
window is exported, and the engine never resizes a buffer while a Span over it is
exported (the spans are released as soon as the call returns).
"""
cimport cython
from cpython.buffer cimport PyBUF_WRITABLE

cdef Py_ssize_t _ONE = 1


@cython.no_gc          # holds no object that could refer back to it
cdef class Span:

    def __cinit__(self):
        self.ptr = NULL
        self.length = 0
        self.readonly = True
        self.exports = 0

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        if (flags & PyBUF_WRITABLE) and self.readonly:
            raise BufferError("read-only span")
        buffer.buf = self.ptr
        buffer.obj = self
        buffer.len = self.length
        buffer.readonly = self.readonly
        buffer.itemsize = 1
        buffer.format = NULL          # means "B" (unsigned bytes): no string to parse
        buffer.ndim = 1
        # Shape and strides are always given: some consumers (pyo3) insist on them.
        buffer.shape = &self.length
        buffer.strides = &_ONE
        buffer.suboffsets = NULL
        buffer.internal = NULL
        self.exports += 1

    def __releasebuffer__(self, Py_buffer* buffer):
        self.exports -= 1

    def __len__(self):
        return self.length
