"""The sans-IO TLS engine (typed Cython): bytes in, bytes out, no sockets or threads."""
