"""Witnesses: a second, append-only record of every signed checkpoint, out of the database writer's reach.

Someone who can write to the database but lacks the signing key cannot re-sign a rewritten chain; the
checkpoints in the store catch them. Someone who also holds the key can re-sign, and only a copy of the
checkpoints kept elsewhere (another volume, another jurisdiction, an HTTP service) shows that the chain
once ended differently. `jaju audit verify --witness PATH` compares the store with that copy.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from jaju.audit.chain import Checkpoint
from jaju.errors import ConfigError

WITNESS_FORMAT = "jaju-audit-witness/1"


class Witness(Protocol):
    """Where checkpoints are copied; `append` returns only once the copy is durable."""

    def append(self, checkpoint: Checkpoint) -> None: ...

    def checkpoints(self) -> Iterator[Checkpoint]: ...

    def close(self) -> None: ...


def witness_line(cp: Checkpoint) -> bytes:
    record = {"format": WITNESS_FORMAT, "seq": cp.seq, "chain_hash": cp.chain_hash, "ts": cp.ts,
              "key_id": cp.key_id, "signature": base64.b64encode(cp.signature).decode("ascii")}
    return (json.dumps(record, separators=(",", ":")) + "\n").encode("ascii")


def parse_witness_line(line: str, where: str) -> Checkpoint:
    try:
        rec = json.loads(line)
        if rec.get("format") != WITNESS_FORMAT:
            raise ValueError(f"not a {WITNESS_FORMAT} line")
        return Checkpoint(int(rec["seq"]), str(rec["chain_hash"]), str(rec["ts"]), str(rec["key_id"]),
                          base64.b64decode(rec["signature"], validate=True))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
        raise ValueError(f"{where} is not a witness checkpoint ({e})") from None


class FileWitness:
    """An append-only JSON-lines file, fsynced with every group commit.

    Put it on another volume (ideally one the database host mounts append-only, e.g. `chattr +a`).
    Several processes may share one file: each line goes out in one O_APPEND write, which a local
    filesystem keeps whole; lines from different processes may then appear out of order, which the
    verifier accepts. Network filesystems do not all keep O_APPEND atomic.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def open(self) -> int:
        """Open (creating) the file for appending; a path that cannot be used is a configuration error."""
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                created = not self.path.exists()
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                if created:  # the new directory entry must survive a crash too
                    dir_fd = os.open(self.path.parent, os.O_RDONLY)
                    try:
                        os.fsync(dir_fd)
                    finally:
                        os.close(dir_fd)
            except OSError as e:
                raise ConfigError(f"The audit witness file {self.path} cannot be opened for appending ({e}). "
                                  "Check [audit] witness_path and the directory's permissions.") from None
        return self._fd

    def append(self, checkpoint: Checkpoint) -> None:
        fd = self.open()
        line = witness_line(checkpoint)
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to the audit witness {self.path} ({written} of {len(line)} bytes)")
        os.fsync(fd)

    def checkpoints(self) -> Iterator[Checkpoint]:
        """Every checkpoint in the file, in file order; a line that does not parse raises ValueError."""
        with open(self.path, encoding="ascii", errors="strict") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield parse_witness_line(line, f"{self.path}:{n}")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
