# cython: language_level=3
"""SHA-256 and SHA-384 hash states in C, from the libcrypto the interpreter's own
``hashlib`` already runs on.

A TLS key schedule is made of short HMACs: each is four hash calls on inputs of one
block. Through ``hashlib`` objects every one of those calls is a Python method call,
which costs more than the hashing (about 2 us per HMAC-SHA384 against 0.9 us in C,
measured on this project's benchmark machine). Here the same libcrypto functions are
called directly: their addresses are looked up once in the ``_hashlib`` extension that
is already loaded (``dlopen`` with RTLD_NOLOAD, so nothing new is loaded), using only
EVP entry points whose ABI has not changed since OpenSSL 1.1.0.

When they cannot be found (a ``hashlib`` without OpenSSL, a statically linked one, a
platform without ``dlopen``), ``HashState`` keeps a ``hashlib`` object instead: callers
see one interface either way. ``CYSSL_HASHLIB_ONLY=1`` in the environment forces that
path (the tests run both).
"""
import hashlib
import os

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy


cdef extern from "<dlfcn.h>" nogil:
    void *dlopen(const char *filename, int flags)
    void *dlsym(void *handle, const char *symbol)
    int RTLD_LAZY
    int RTLD_NOLOAD


ctypedef void *(*md_ctx_new_f)() noexcept nogil
ctypedef void (*md_ctx_free_f)(void *ctx) noexcept nogil
ctypedef int (*md_ctx_copy_f)(void *out, const void *src) noexcept nogil
ctypedef int (*digest_init_f)(void *ctx, const void *md, void *engine) noexcept nogil
ctypedef int (*digest_update_f)(void *ctx, const void *data, size_t n) noexcept nogil
ctypedef int (*digest_final_f)(void *ctx, unsigned char *out, unsigned int *n) noexcept nogil
ctypedef const void *(*md_by_name_f)(const char *name) noexcept nogil
ctypedef void *(*md_fetch_f)(void *libctx, const char *name, const char *props) noexcept nogil


cdef md_ctx_new_f _ctx_new = NULL
cdef md_ctx_free_f _ctx_free = NULL
cdef md_ctx_copy_f _ctx_copy = NULL
cdef digest_init_f _init = NULL
cdef digest_update_f _update = NULL
cdef digest_final_f _final = NULL
cdef const void *_sha256 = NULL
cdef const void *_sha384 = NULL

cdef bint _available = False


cdef const void *_digest(void *lib, const char *name):
    """The EVP_MD for ``name``: an explicitly fetched one on OpenSSL 3 (an implicit
    fetch on every init would cost more than the hash), else the built-in table's."""
    cdef md_fetch_f fetch = <md_fetch_f>dlsym(lib, "EVP_MD_fetch")
    if fetch != NULL:
        return fetch(NULL, name, NULL)
    cdef md_by_name_f by_name = <md_by_name_f>dlsym(lib, "EVP_get_digestbyname")
    return by_name(name) if by_name != NULL else NULL


cdef bint _load():
    global _ctx_new, _ctx_free, _ctx_copy, _init, _update, _final, _sha256, _sha384
    if os.environ.get("CYSSL_HASHLIB_ONLY") == "1":
        return False
    import _hashlib
    cdef bytes path = os.fsencode(_hashlib.__file__)
    cdef void *lib = dlopen(path, RTLD_LAZY | RTLD_NOLOAD)
    if lib == NULL:
        return False
    _ctx_new = <md_ctx_new_f>dlsym(lib, "EVP_MD_CTX_new")
    _ctx_free = <md_ctx_free_f>dlsym(lib, "EVP_MD_CTX_free")
    _ctx_copy = <md_ctx_copy_f>dlsym(lib, "EVP_MD_CTX_copy_ex")
    _init = <digest_init_f>dlsym(lib, "EVP_DigestInit_ex")
    _update = <digest_update_f>dlsym(lib, "EVP_DigestUpdate")
    _final = <digest_final_f>dlsym(lib, "EVP_DigestFinal_ex")
    if (_ctx_new == NULL or _ctx_free == NULL or _ctx_copy == NULL or _init == NULL
            or _update == NULL or _final == NULL):
        return False
    _sha256 = _digest(lib, b"SHA256")
    _sha384 = _digest(lib, b"SHA384")
    return _sha256 != NULL and _sha384 != NULL and _agrees_with_hashlib()


cdef bint _agrees_with_hashlib() except -1:
    """A known-answer check against hashlib before the first real use: a wrong symbol
    or ABI must mean "not available", never a wrong key schedule."""
    return _hashes_abc(_sha256, "sha256") and _hashes_abc(_sha384, "sha384")


cdef bint _hashes_abc(const void *md, str name) except -1:
    cdef unsigned char out[48]
    cdef unsigned int n = 0
    cdef void *ctx = _ctx_new()
    if ctx == NULL:
        return False
    ok = _init(ctx, md, NULL) and _update(ctx, b"abc", 3) and _final(ctx, out, &n)
    _ctx_free(ctx)
    return ok and out[:n] == getattr(hashlib, name)(b"abc").digest()


try:
    _available = _load()
except (ImportError, AttributeError):   # no _hashlib, or one built in: keep to hashlib
    _available = False
AVAILABLE = _available      # for tests and diagnostics

_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}
_SIZES = {"sha256": (32, 64), "sha384": (48, 128)}      # digest, block


cdef int _check(int ok) except -1:
    if not ok:
        raise MemoryError("libcrypto hash call failed")
    return 0


@cython.no_gc          # holds no object that could refer back to it
@cython.final
cdef class HashState:
    """A running SHA-256 or SHA-384: ``HashState("sha384")``.

    ``copy_from`` makes it a copy of another state of the same hash (cheap: no new
    object), ``finish_into`` ends it (it must be copied into or reset before it is used
    again), ``digest`` is a snapshot that leaves it running.
    """

    def __cinit__(self, str name, bint empty=True):
        if name not in _SIZES:
            raise ValueError("unsupported hash %r" % name)
        self.name = name
        self.digest_size, self.block_size = _SIZES[name]
        if _available:
            self._ctx = _ctx_new()
            if self._ctx == NULL:
                raise MemoryError()
        if empty:                       # else copy_from fills it
            self.reset()

    def __dealloc__(self):
        if self._ctx != NULL:
            _ctx_free(self._ctx)     # libcrypto wipes it (it may hold key-derived blocks)

    cdef int reset(self) except -1:
        if self._ctx == NULL:
            self._hashlib = _HASHLIB[self.name]()
            return 0
        return _check(_init(self._ctx, _sha256 if self.digest_size == 32 else _sha384, NULL))

    cdef int update(self, const unsigned char *data, size_t n) except -1:
        if self._ctx == NULL:
            self._hashlib.update(data[:n])
            return 0
        return _check(_update(self._ctx, data, n))

    cdef int update_bytes(self, data) except -1:
        cdef bytes b
        if self._ctx == NULL:
            self._hashlib.update(data)
            return 0
        b = data if type(data) is bytes else bytes(data)
        return _check(_update(self._ctx, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b)))

    cdef int copy_from(self, HashState other) except -1:
        if self._ctx == NULL:
            self._hashlib = other._hashlib.copy()
            return 0
        return _check(_ctx_copy(self._ctx, other._ctx))

    cdef HashState copy(self):
        cdef HashState other = HashState.__new__(HashState, self.name, False)
        other.copy_from(self)
        return other

    cdef int finish_into(self, unsigned char *out) except -1:
        """Writes the digest (digest_size bytes) to ``out``."""
        cdef unsigned int n = 0
        if self._ctx == NULL:
            memcpy(out, PyBytes_AS_STRING(self._hashlib.digest()), self.digest_size)
            return 0
        return _check(_final(self._ctx, out, &n))

    cdef bytes digest(self):
        cdef bytes out = PyBytes_FromStringAndSize(NULL, self.digest_size)
        self.copy().finish_into(<unsigned char *>PyBytes_AS_STRING(out))     # fresh, unshared
        return out
