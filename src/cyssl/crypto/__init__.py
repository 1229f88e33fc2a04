"""Adapters to the `cryptography` package: the only part of cyssl that imports it."""
