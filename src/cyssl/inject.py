"""inject_into_ssl() / extract_from_ssl(): make code that imports the stdlib ``ssl`` use
cyssl, in the manner of the truststore package, without truststore's two traps
(integration.md section 7): contexts created before the injection still pass
``isinstance(x, ssl.SSLContext)``, and their property setters still work.
"""
import sys

from cyssl.context import SSLContext as _CysslContext

try:
    import ssl as _stdlib
    _NativeContext = _stdlib._ssl._SSLContext
    _ORIGINAL = _stdlib.SSLContext
except ImportError:
    _stdlib = None

_FORWARDED = ("options", "verify_mode", "verify_flags", "minimum_version", "maximum_version",
              "_msg_callback")


class _Forwarding:
    """A data descriptor for the stdlib setters' ``super(SSLContext, SSLContext).X.__set__``:
    on a cyssl context it is cyssl's property, on a stdlib context the C one."""

    def __init__(self, name):
        self.name = name
        self.cyssl = _CysslContext.__dict__.get(name)
        self.native = getattr(_NativeContext, name, None)

    def _target(self, obj):
        return self.cyssl if isinstance(obj, _CysslContext) else self.native

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return self._target(obj).__get__(obj, type(obj))

    def __set__(self, obj, value):
        self._target(obj).__set__(obj, value)


class _AcceptsStdlibContexts(type(_CysslContext)):
    """``isinstance(stdlib_context, ssl.SSLContext)`` stays true after the injection."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _NativeContext) or super().__instancecheck__(obj)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _NativeContext) or super().__subclasscheck__(sub)


if _stdlib is not None:
    _Forwarders = type("_Forwarders", (_CysslContext,), {n: _Forwarding(n) for n in _FORWARDED})
    InjectedSSLContext = _AcceptsStdlibContexts("SSLContext", (_Forwarders,), {
        "__module__": "ssl", "__doc__": _CysslContext.__doc__})


def inject_into_ssl():
    """Point ``ssl.SSLContext`` (and urllib3's and requests' early bindings) at cyssl."""
    if _stdlib is None:
        raise RuntimeError("there is no stdlib ssl module to inject into")
    _bind(InjectedSSLContext)


def extract_from_ssl():
    """Undo inject_into_ssl()."""
    if _stdlib is not None:
        _bind(_ORIGINAL)


def _bind(context_class):
    _stdlib.SSLContext = context_class
    urllib3_ssl = sys.modules.get("urllib3.util.ssl_")
    if urllib3_ssl is not None:
        urllib3_ssl.SSLContext = context_class
    adapters = sys.modules.get("requests.adapters")
    if adapters is not None and hasattr(adapters, "_preloaded_ssl_context"):
        adapters._preloaded_ssl_context = _stdlib.create_default_context()
