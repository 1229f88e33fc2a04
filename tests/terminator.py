"""The byte CPython keeps after a bytearray's contents (a NUL), which cyssl's
read(n, buffer) may borrow for a moment and must give back."""
import ctypes


def byte_after(buffer):
    """The byte after a bytearray's contents: CPython keeps a NUL there."""
    address = ctypes.addressof((ctypes.c_char * len(buffer)).from_buffer(buffer))
    return ctypes.string_at(address + len(buffer), 1)
