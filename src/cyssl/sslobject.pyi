"""Type stubs for cyssl.sslobject (Cython): SSLObject and MemoryBIO, with the signatures
of typeshed's ``ssl.SSLObject`` and ``ssl.MemoryBIO`` (stdlib/ssl.pyi, stdlib/_ssl.pyi).
SSLObject's methods are declared on its base, cyssl.channel.TLSChannel.

``SSLContext.wrap_bio`` takes cyssl's MemoryBIO or the stdlib's (asyncio makes its own).
"""
import ssl
from typing import Any, final

from _typeshed import ReadableBuffer
from typing_extensions import Self

from cyssl.channel import TLSChannel
from cyssl.context import SSLContext
from cyssl.session import SSLSession

class SSLObject(TLSChannel):
    """TLS over a pair of MemoryBIOs; made by ``SSLContext.wrap_bio``."""

    def __new__(
        cls,
        context: SSLContext,
        server_side: bool,
        server_hostname: str | bytes | None,
        owner: Any = None,
        session: SSLSession | None = None,
        incoming: MemoryBIO | ssl.MemoryBIO | None = None,
        outgoing: MemoryBIO | ssl.MemoryBIO | None = None,
    ) -> Self: ...
    def unwrap(self) -> None: ...

@final
class MemoryBIO:
    """A growable byte queue: write() appends, read() takes."""

    def __new__(cls) -> Self: ...
    @property
    def pending(self) -> int: ...
    @property
    def eof(self) -> bool: ...
    def read(self, size: int = -1, /) -> bytes: ...
    def write(self, b: ReadableBuffer, /) -> int: ...
    def write_eof(self) -> None: ...
