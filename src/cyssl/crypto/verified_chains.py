"""A bounded memory of chains that verified, so a client reconnecting to the same server
does not verify the same certificates again (Chromium's CertVerifier keeps such a cache).

Verification is a pure function of its inputs: the certificates the peer sent, the
trust anchors, the policy (name, purpose, flags) and the time. A cache lives on one
trust store's verification material, which is rebuilt whenever the store changes, so
the anchors are fixed; the key holds every other input except the time, and an entry
is used only while the time lies inside the validity window of every certificate in
the verified chain. Outside it, or on any miss, the chain is verified in full again.
Only successes are kept: a failure is always worked out anew, with its exact error.
"""
import threading
import time
from collections import OrderedDict


class VerifiedChains:
    """LRU map: key -> (value, not_before, not_after) with POSIX-time bounds."""

    def __init__(self, limit=256):
        self._limit = limit
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The value stored under ``key`` if it is still inside its window, else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, not_before, not_after = entry
        if not not_before <= time.time() <= not_after:
            with self._lock:
                self._entries.pop(key, None)
            return None
        return value

    def put(self, key, value, chain):
        """Remember ``value`` for ``key`` while every certificate in ``chain`` (the
        verified chain, leaf to anchor) is within its validity period."""
        not_before = max(cert.not_valid_before_utc for cert in chain).timestamp()
        not_after = min(cert.not_valid_after_utc for cert in chain).timestamp()
        with self._lock:
            self._entries[key] = (value, not_before, not_after)
            self._entries.move_to_end(key)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def __len__(self):
        return len(self._entries)
