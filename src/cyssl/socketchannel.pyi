"""Type stubs for cyssl.socketchannel (Cython): SocketChannel, the TLS object an
SSLSocket keeps in ``_sslobj`` (as the stdlib keeps its C object there)."""
import socket
from typing import Any

from _typeshed import ReadableBuffer
from typing_extensions import Self

from cyssl.channel import TLSChannel
from cyssl.context import SSLContext
from cyssl.session import SSLSession

class SocketChannel(TLSChannel):
    def __new__(
        cls,
        context: SSLContext,
        server_side: bool,
        server_hostname: str | bytes | None,
        owner: Any = None,
        session: SSLSession | None = None,
        sock: socket.socket | None = None,
    ) -> Self: ...
    def write(self, data: ReadableBuffer) -> int: ...
    def shutdown(self) -> socket.socket: ...
