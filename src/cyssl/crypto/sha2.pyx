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
platform without ``dlopen``), ``available()`` is false and callers keep to ``hashlib``.
``CYSSL_HASHLIB_ONLY=1`` in the environment forces that path (the tests run both).
"""
import os


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
    import hashlib
    cdef unsigned char out[48]
    cdef void *ctx
    for name in ("sha256", "sha384"):
        ctx = new_state(name)
        try:
            update(ctx, b"abc", 3)
            finish(ctx, out)
        finally:
            free_state(ctx)
        expected = getattr(hashlib, name)(b"abc").digest()
        if out[:len(expected)] != expected:
            return False
    return True


try:
    _available = _load()
except (ImportError, AttributeError):   # no _hashlib, or one built in: keep to hashlib
    _available = False
AVAILABLE = _available


cdef bint available() noexcept:
    return _available


cdef int _check(int ok) except -1:
    if not ok:
        raise MemoryError("libcrypto hash call failed")
    return 0


cdef int init_state(void *ctx, str hash_name) except -1:
    """Starts ``ctx`` over as an empty "sha256" or "sha384" hash."""
    cdef const void *md = _sha256 if hash_name == "sha256" else _sha384 if hash_name == "sha384" else NULL
    if md == NULL:
        raise ValueError("unsupported hash %r" % hash_name)
    return _check(_init(ctx, md, NULL))


cdef void *new_state(str hash_name) except NULL:
    """A hash state (EVP_MD_CTX), empty if ``hash_name`` is given, else blank until a
    copy_state or init_state; free it with free_state. Only when ``available()``."""
    cdef void *ctx = _ctx_new()
    if ctx == NULL:
        raise MemoryError()
    if hash_name is not None:
        try:
            init_state(ctx, hash_name)
        except BaseException:
            _ctx_free(ctx)
            raise
    return ctx


cdef void free_state(void *ctx) noexcept:
    """Frees a state; libcrypto wipes it first (it may hold key-derived blocks)."""
    if ctx != NULL:
        _ctx_free(ctx)


cdef int update(void *ctx, const unsigned char *data, size_t n) except -1:
    return _check(_update(ctx, data, n))


cdef int copy_state(void *out, const void *src) except -1:
    return _check(_ctx_copy(out, src))


cdef int finish(void *ctx, unsigned char *out) except -1:
    """Writes the digest to ``out`` (room for 48 bytes); the state needs a copy_state
    or a new init before it is used again."""
    cdef unsigned int n = 0
    return _check(_final(ctx, out, &n))
