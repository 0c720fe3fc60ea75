"""A minimal writer for OLE compound files (CFB v3), enough to build real HWP 5.0 test documents.

olefile only reads; the tests need real containers, so this writes one: a FAT, a directory with a
balanced sibling tree per storage, a mini stream for streams under 4096 bytes, regular sectors above.
"""

from __future__ import annotations

import struct

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Entry] = []
        self.left = self.right = self.child = NOSTREAM
        self.start, self.size, self.sid = END, 0, 0


def _ceil(n: int, d: int) -> int:
    return -(-n // d)


def _tree(nodes: list[_Entry]) -> int:
    """Sid of the root of a balanced binary tree over nodes sorted in CFB order."""
    if not nodes:
        return NOSTREAM
    mid = len(nodes) // 2
    node = nodes[mid]
    node.left, node.right = _tree(nodes[:mid]), _tree(nodes[mid + 1:])
    return node.sid


def write_cfb(streams: dict[str, bytes]) -> bytes:
    """Bytes of a compound file holding `streams`, keyed by 'Storage/Stream' paths."""
    root = _Entry("Root Entry", 5)
    entries = [root]
    for path, data in streams.items():
        parent = root
        parts = path.split("/")
        for part in parts[:-1]:
            found = next((c for c in parent.children if c.name == part and c.kind == 1), None)
            if found is None:
                found = _Entry(part, 1)
                parent.children.append(found)
                entries.append(found)
            parent = found
        leaf = _Entry(parts[-1], 2, data)
        parent.children.append(leaf)
        entries.append(leaf)
    for sid, e in enumerate(entries):
        e.sid = sid
    for e in entries:
        e.children.sort(key=lambda c: (len(c.name), c.name.upper()))
        e.child = _tree(e.children)

    mini_stream, minifat = bytearray(), []
    big = [e for e in entries if e.kind == 2 and len(e.data) >= CUTOFF]
    for e in entries:
        if e.kind == 2 and len(e.data) < CUTOFF:
            e.size = len(e.data)
            if not e.data:
                continue
            e.start = len(mini_stream) // MINI
            n = _ceil(len(e.data), MINI)
            minifat += [e.start + i + 1 for i in range(n - 1)] + [END]
            mini_stream += e.data + b"\0" * (n * MINI - len(e.data))

    n_dir = _ceil(len(entries) * 128, SECTOR)
    n_minifat = _ceil(len(minifat) * 4, SECTOR)
    n_mini = _ceil(len(mini_stream), SECTOR)
    n_big = [_ceil(len(e.data), SECTOR) for e in big]
    others = n_dir + n_minifat + n_mini + sum(n_big)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + others:
        n_fat += 1
    assert n_fat <= 109, "test documents stay small"

    fat: list[int] = [FATSECT] * n_fat
    def chain(count: int) -> int:
        if count == 0:
            return END
        first = len(fat)
        fat.extend([first + i + 1 for i in range(count - 1)] + [END])
        return first
    dir_start = chain(n_dir)
    minifat_start = chain(n_minifat) if n_minifat else END
    root.start = chain(n_mini) if n_mini else END
    root.size = len(mini_stream)
    for e, n in zip(big, n_big):
        e.start, e.size = chain(n), len(e.data)
    fat += [FREE] * (n_fat * (SECTOR // 4) - len(fat))

    def direntry(e: _Entry | None) -> bytes:
        if e is None:
            return b"\0" * 64 + struct.pack("<HBB3I", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 36 + \
                struct.pack("<IQ", 0, 0)
        name = e.name.encode("utf-16-le")
        return (name + b"\0" * (64 - len(name)) +
                struct.pack("<HBB3I", len(name) + 2, e.kind, 1, e.left, e.right, e.child) +
                b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<IQ", e.start if e.kind != 1 else 0, e.size))

    directory = b"".join(direntry(e) for e in entries)
    directory += direntry(None) * (n_dir * (SECTOR // 128) - len(entries))
    difat = list(range(n_fat)) + [FREE] * (109 - n_fat)
    header = (MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6 +
              struct.pack("<IIIIIIIII", 0, n_fat, dir_start, 0, CUTOFF, minifat_start, n_minifat, END, 0) +
              struct.pack("<109I", *difat))
    assert len(header) == SECTOR

    def pad(b: bytes) -> bytes:
        return b + b"\0" * (_ceil(len(b), SECTOR) * SECTOR - len(b))
    body = struct.pack(f"<{len(fat)}I", *fat) + directory
    if n_minifat:
        body += pad(struct.pack(f"<{len(minifat)}I", *minifat))
    body += pad(bytes(mini_stream))
    for e in big:
        body += pad(e.data)
    return header + body
