from libc.stdint cimport uint32_t


cdef class Reader:
    """Bounds-checked cursor over one contiguous buffer (see codec.pyx)."""
    cdef object _owner                   # keeps the memory alive
    cdef const unsigned char* _data
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _end

    cdef int _need(self, Py_ssize_t n) except -1
    cpdef unsigned int u8(self) except? 0xFFFFFFFF
    cpdef unsigned int u16(self) except? 0xFFFFFFFF
    cpdef unsigned int u24(self) except? 0xFFFFFFFF
    cpdef uint32_t u32(self) except? 0xFFFFFFFF
    cpdef bytes take(self, Py_ssize_t n)
    cpdef skip(self, Py_ssize_t n)
    cpdef bytes vec8(self)
    cpdef bytes vec16(self)
    cpdef bytes vec24(self)
    cpdef Reader sub(self, Py_ssize_t n)
    cpdef Reader sub8(self)
    cpdef Reader sub16(self)
    cpdef Reader sub24(self)
    cpdef bytes rest(self)
    cpdef expect_end(self, str what=*)
    cpdef bint at_end(self)
    cdef inline Py_ssize_t left(self):
        return self._end - self._pos


cdef class Writer:
    """Appends into a growable buffer; vector length prefixes are back-patched."""
    cdef bytearray _buf
    cdef Py_ssize_t _len

    cdef unsigned char* _grow(self, Py_ssize_t n) except NULL
    cpdef u8(self, unsigned int value)
    cpdef u16(self, unsigned int value)
    cpdef u24(self, unsigned int value)
    cpdef u32(self, uint32_t value)
    cpdef write(self, data)
    cpdef vec8(self, data)
    cpdef vec16(self, data)
    cpdef vec24(self, data)
    cpdef Py_ssize_t begin(self, int width) except -1
    cpdef end(self, Py_ssize_t mark, int width)
    cpdef bytes getvalue(self)
