# cython: language_level=3, boundscheck=False, wraparound=False
"""Bounds-checked reading and writing of TLS wire structures (RFC 8446 section 3).

Every parser in the engine reads through ``Reader``: each access first checks the
bytes are there, so a length that runs past its buffer is a ``decode_error``
TLSError, never an IndexError or a read past the end. (That check is why this
module may turn Cython's own bounds checking off.)
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from libc.string cimport memcpy

from cyssl.tls.errors import decode_error, TLSError
from cyssl.tls.errors cimport INTERNAL_ERROR

cdef unsigned int[4] _VECTOR_MAX = [0, 0xFF, 0xFFFF, 0xFFFFFF]


cdef class Reader:
    """Reads big-endian integers, byte strings and length-prefixed vectors.

    ``Reader(data)`` accepts any contiguous buffer (bytes, bytearray, memoryview);
    the caller must not resize a bytearray while a Reader over it is alive.
    """

    def __cinit__(self, data=b"", *, Py_ssize_t start=0, Py_ssize_t end=-1):
        cdef const unsigned char[::1] view
        cdef Reader parent
        if type(data) is bytes:                # the common case: no memoryview needed
            self._owner = data
            self._data = <const unsigned char*>PyBytes_AS_STRING(data)
            if end < 0:
                end = PyBytes_GET_SIZE(data)
            elif end > PyBytes_GET_SIZE(data):
                raise ValueError("end past the buffer")
        elif isinstance(data, Reader):         # a window onto another Reader's memory
            parent = <Reader>data
            self._owner = parent._owner
            self._data = parent._data
        else:
            view = data                       # raises TypeError for non-buffers
            self._owner = view
            self._data = &view[0] if view.shape[0] else NULL
            if end < 0:
                end = view.shape[0]
            elif end > view.shape[0]:
                raise ValueError("end past the buffer")
        if start < 0 or start > end:
            raise ValueError("bad Reader window")
        self._pos = start
        self._end = end

    cdef int _need(self, Py_ssize_t n) except -1:
        if n < 0 or n > self._end - self._pos:
            raise decode_error("need %d bytes, %d left" % (n, self._end - self._pos))
        return 0

    cpdef unsigned int u8(self) except? 0xFFFFFFFF:
        self._need(1)
        self._pos += 1
        return self._data[self._pos - 1]

    cpdef unsigned int u16(self) except? 0xFFFFFFFF:
        self._need(2)
        cdef const unsigned char* p = self._data + self._pos
        self._pos += 2
        return (p[0] << 8) | p[1]

    cpdef unsigned int u24(self) except? 0xFFFFFFFF:
        self._need(3)
        cdef const unsigned char* p = self._data + self._pos
        self._pos += 3
        return (p[0] << 16) | (p[1] << 8) | p[2]

    cpdef uint32_t u32(self) except? 0xFFFFFFFF:
        self._need(4)
        cdef const unsigned char* p = self._data + self._pos
        self._pos += 4
        return (<uint32_t>p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]

    cpdef bytes take(self, Py_ssize_t n):
        """The next ``n`` bytes, copied."""
        self._need(n)
        self._pos += n
        return PyBytes_FromStringAndSize(<const char*>self._data + self._pos - n, n)

    cpdef skip(self, Py_ssize_t n):
        self._need(n)
        self._pos += n

    cpdef bytes vec8(self):
        return self.take(self.u8())

    cpdef bytes vec16(self):
        return self.take(self.u16())

    cpdef bytes vec24(self):
        return self.take(self.u24())

    cpdef Reader sub(self, Py_ssize_t n):
        """A Reader over the next ``n`` bytes (no copy); this Reader moves past them."""
        self._need(n)
        cdef Reader child = Reader.__new__(Reader)
        child._owner = self._owner
        child._data = self._data
        child._pos = self._pos
        child._end = self._pos + n
        self._pos += n
        return child

    cpdef Reader sub8(self):
        return self.sub(self.u8())

    cpdef Reader sub16(self):
        return self.sub(self.u16())

    cpdef Reader sub24(self):
        return self.sub(self.u24())

    cpdef bytes rest(self):
        """All remaining bytes, copied."""
        return self.take(self._end - self._pos)

    cpdef expect_end(self, str what="structure"):
        """Raise decode_error unless every byte has been consumed."""
        if self._pos != self._end:
            raise decode_error("%d trailing bytes after %s" % (self._end - self._pos, what),
                               "LENGTH_MISMATCH")

    @property
    def remaining(self):
        return self._end - self._pos

    @property
    def position(self):
        return self._pos

    cpdef bint at_end(self):
        return self._pos == self._end


cdef class Writer:
    """Builds wire structures. ``begin(width)``/``end(mark, width)`` bracket a vector
    whose 1-, 2- or 3-byte length prefix is patched in when it is closed."""

    def __cinit__(self, Py_ssize_t capacity=256):
        self._buf = PyByteArray_FromStringAndSize(NULL, capacity)   # written before read
        self._len = 0

    cdef unsigned char* _grow(self, Py_ssize_t n) except NULL:
        cdef Py_ssize_t need = self._len + n
        cdef Py_ssize_t cap = len(self._buf)
        if need > cap:
            PyByteArray_Resize(self._buf, max(need, 2 * cap))
        cdef unsigned char* p = <unsigned char*>PyByteArray_AS_STRING(self._buf) + self._len
        self._len = need
        return p

    cpdef u8(self, unsigned int value):
        if value > 0xFF:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "u8 out of range")
        self._grow(1)[0] = value

    cpdef u16(self, unsigned int value):
        if value > 0xFFFF:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "u16 out of range")
        cdef unsigned char* p = self._grow(2)
        p[0] = value >> 8
        p[1] = value & 0xFF

    cpdef u24(self, unsigned int value):
        if value > 0xFFFFFF:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "u24 out of range")
        cdef unsigned char* p = self._grow(3)
        p[0] = value >> 16
        p[1] = (value >> 8) & 0xFF
        p[2] = value & 0xFF

    cpdef u32(self, uint32_t value):
        cdef unsigned char* p = self._grow(4)
        p[0] = value >> 24
        p[1] = (value >> 16) & 0xFF
        p[2] = (value >> 8) & 0xFF
        p[3] = value & 0xFF

    cpdef write(self, data):
        """Append raw bytes from any contiguous buffer."""
        cdef Py_buffer view
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            memcpy(self._grow(view.len), view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    cpdef vec8(self, data):
        cdef Py_ssize_t mark = self.begin(1)
        self.write(data)
        self.end(mark, 1)

    cpdef vec16(self, data):
        cdef Py_ssize_t mark = self.begin(2)
        self.write(data)
        self.end(mark, 2)

    cpdef vec24(self, data):
        cdef Py_ssize_t mark = self.begin(3)
        self.write(data)
        self.end(mark, 3)

    cpdef Py_ssize_t begin(self, int width) except -1:
        """Reserve a ``width``-byte length prefix; returns the mark for ``end``."""
        if width < 1 or width > 3:
            raise ValueError("vector length prefix is 1, 2 or 3 bytes")
        self._grow(width)
        return self._len

    cpdef end(self, Py_ssize_t mark, int width):
        """Close the vector opened at ``mark``: write its length into the prefix."""
        if width < 1 or width > 3 or mark < width or mark > self._len:
            raise ValueError("bad vector mark")
        cdef Py_ssize_t n = self._len - mark
        if n > _VECTOR_MAX[width]:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR",
                           "vector of %d bytes exceeds its %d-byte length prefix" % (n, width))
        cdef unsigned char* p = <unsigned char*>PyByteArray_AS_STRING(self._buf) + mark - width
        cdef int i
        for i in range(width):
            p[i] = (n >> (8 * (width - 1 - i))) & 0xFF

    cpdef bytes getvalue(self):
        return PyBytes_FromStringAndSize(PyByteArray_AS_STRING(self._buf), self._len)

    def __len__(self):
        return self._len
