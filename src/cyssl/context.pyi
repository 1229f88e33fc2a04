# cyssl.SSLContext has the stdlib's signatures (it subclasses ssl.SSLContext and overrides
# every member with the same API), so type checkers use typeshed's; wrap_bio differs only
# in taking and returning cyssl's memory-BIO classes too.
import ssl

from cyssl.session import SSLSession
from cyssl.sslobject import MemoryBIO, SSLObject

class SSLContext(ssl.SSLContext):
    def wrap_bio(  # type: ignore[override]
        self,
        incoming: MemoryBIO | ssl.MemoryBIO,
        outgoing: MemoryBIO | ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: SSLSession | None = None,
    ) -> SSLObject: ...
