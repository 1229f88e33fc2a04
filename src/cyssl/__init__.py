"""cyssl: a drop-in replacement for Python's ssl module, with its own TLS engine."""
__version__ = "0.1.0.dev0"
