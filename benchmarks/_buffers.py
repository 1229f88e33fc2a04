"""Buffers the benchmarks' floors write into where Python offers no way to: a bytes
object's contents, and a bytearray's terminating NUL (CPython's layout; checked)."""
import ctypes
import sys


def writable_bytes(size):
    """A ``size``-byte bytes object and a writable view of its contents (ctypes over
    CPython's layout, where the contents start sys.getsizeof(b"") - 1 bytes in). A C
    implementation may seal each record into a bytes object its reader has let go of, or
    into a new uninitialised one (one malloc); from Python, ``encrypt()`` is the only way to
    a new one, and it zero-fills it first (pyo3 does: about 0.2 us per 16 KiB here), a
    cost no TLS in C pays. So the floor seals into this one object every time."""
    record = bytes(size)
    view = memoryview((ctypes.c_char * size).from_address(
        id(record) + sys.getsizeof(b"") - 1)).cast("B")
    view[0] = 1
    if record[0] != 1:
        raise RuntimeError("bytes objects are not laid out as this Python's were assumed to be")
    return record, view


def with_terminator(buffer):
    """A writable view of a bytearray's contents and the NUL CPython keeps after them."""
    contents = (ctypes.c_char * len(buffer)).from_buffer(buffer)   # an export: it stays put
    wider = (ctypes.c_char * (len(buffer) + 1)).from_address(ctypes.addressof(contents))
    wider.contents = contents                                      # ... as long as the view
    view = memoryview(wider).cast("B")
    if view[-1] != 0:
        raise RuntimeError("bytearrays are not laid out as this Python's were assumed to be")
    return view
