"""The hash chain and checkpoint signatures: pure functions shared by writer, verifier and exporter."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

GENESIS = "0" * 64


def leaf_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def link(prev_chain: str, leaf: str) -> str:
    """chain_i = sha256(chain_{i-1} || leaf_i), over the raw 32-byte digests."""
    return hashlib.sha256(bytes.fromhex(prev_chain) + bytes.fromhex(leaf)).hexdigest()


def checkpoint_message(seq: int, chain_hash: str, ts: str, key_id: str) -> bytes:
    """The exact bytes an Ed25519 checkpoint signature covers."""
    return f"jaju-audit-checkpoint/1|{seq}|{chain_hash}|{ts}|{key_id}".encode("ascii")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "the chain ends at `seq` with `chain_hash`" (store row, export line, witness line)."""

    seq: int
    chain_hash: str
    ts: str
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.chain_hash, self.ts, self.key_id)
