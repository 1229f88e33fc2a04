# cyssl.SSLSocket has the stdlib's signatures exactly (it subclasses ssl.SSLSocket).
import ssl

class SSLSocket(ssl.SSLSocket):
    def export_keying_material(self, label: bytes, context: bytes | None = ..., length: int = ...) -> bytes: ...
