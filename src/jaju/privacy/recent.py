"""RecentAnalyses: what the analyzer found in texts it has just analysed, so a resent text is not analysed again.

A chat client sends the whole conversation with every turn, so without this the PII scan of turn k
re-reads the k-1 messages it has already read (Kiwi included, about 1-2 ms per 600 characters). The
analysis of a text depends only on the text and the score threshold, so its result can be reused as is.

Nothing here holds the text or a value found in it: an entry is keyed by a keyed BLAKE2b digest of the
tenant and the text (the key is random per process and never leaves it), and holds entity types, offsets,
scores and recognizer names only. The tenant is part of the key so that one tenant's answer time cannot tell
it whether another tenant sent the same text a moment ago (a hit is a millisecond or two faster). A hit hands out fresh RecognizerResult objects, so callers may change them.
Bounded (least recently used out first) and safe to share between threads.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable

from jaju.privacy.recognizer import RecognizerResult

DEFAULT_SIZE = 4096  # entries; each is a 16-byte digest and a few small tuples
MIN_CHARS = 16  # shorter texts cost less to analyse than to look up

_Found = tuple[tuple[str, int, int, float, str], ...]


class RecentAnalyses:
    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = size
        self._key = os.urandom(32)
        self._entries: OrderedDict[bytes, _Found] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def analyze(self, tenant_id: str, text: str, threshold: float,
                run: Callable[[], list[RecognizerResult]]) -> list[RecognizerResult]:
        """`run()`'s results for `text` at `threshold`, from the same tenant's earlier call when there was one."""
        if len(text) < MIN_CHARS or self.size <= 0:
            return run()
        h = hashlib.blake2b(tenant_id.encode("utf-8") + b"\x00", key=self._key, digest_size=16,
                            person=repr(threshold).encode()[:16])
        h.update(text.encode("utf-8", "surrogatepass"))
        digest = h.digest()
        with self._lock:
            found = self._entries.get(digest)
            if found is not None:
                self._entries.move_to_end(digest)
                self.hits += 1
        if found is None:
            results = run()
            found = tuple((r.entity_type, r.start, r.end, r.score, r.recognizer) for r in results)
            with self._lock:
                self.misses += 1
                self._entries[digest] = found
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return results
        return [RecognizerResult(*fields) for fields in found]

    def __len__(self) -> int:
        return len(self._entries)
