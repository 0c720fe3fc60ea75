"""Never a broken syllable: which tokens may follow the bytes a sequence has produced so far.

Byte-level BPE vocabularies (Qwen's among them) hold tokens that are single bytes or fragments of a
UTF-8 character. Sampling can pick a fragment that cannot continue the character in progress (a lead
byte where a continuation byte is due, or a stray continuation byte), and the user then sees U+FFFD
inside a Korean word. The table here is built once per model from every token's bytes; a sequence's
state is the incomplete tail of its output (at most 3 bytes), and each state has one boolean mask over
the vocabulary, computed once with numpy and cached. Checking a sampled token is one array lookup.
"""

from __future__ import annotations

import ctypes

import llama_cpp
import numpy as np

# The byte after these lead bytes has a narrower range (no overlong forms, no surrogates, <= U+10FFFF).
_SECOND = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}
State = tuple[int, int, int]  # (continuation bytes still due, lowest and highest allowed next byte)
CLEAN: State = (0, 0, 0)


def _width(lead: int) -> int:
    """Bytes in a character that starts with `lead`; 0 when it cannot start one."""
    if 0x00 <= lead <= 0x7F:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _valid_prefix(data: bytes) -> bool:
    """True when `data` is valid UTF-8 except that its last character may be unfinished."""
    i, n = 0, len(data)
    while i < n:
        width = _width(data[i])
        if width == 0:
            return False
        for j in range(1, width):
            if i + j >= n:
                return True  # unfinished at the end: the next token may complete it
            lo, hi = _SECOND.get(data[i], (0x80, 0xBF)) if j == 1 else (0x80, 0xBF)
            if not lo <= data[i + j] <= hi:
                return False
        i += width
    return True


def state_of(pending: bytes) -> State:
    """The state after output whose unfinished tail is `pending` (b"" when every character is whole)."""
    if not pending:
        return CLEAN
    width = _width(pending[0])
    lo, hi = _SECOND.get(pending[0], (0x80, 0xBF)) if len(pending) == 1 else (0x80, 0xBF)
    return (width - len(pending), lo, hi)


def token_pieces(vocab, n_vocab: int) -> list[bytes]:
    """Every token's bytes as the engine emits them (control tokens render as b"")."""
    buf = ctypes.create_string_buffer(256)
    pieces = []
    for token in range(n_vocab):
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
        if n < 0:  # longer than the buffer: ask again with room for it
            big = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(vocab, token, big, len(big), 0, False)
            pieces.append(big.raw[:n])
        else:
            pieces.append(buf.raw[:n])
    return pieces


class Utf8Guard:
    """Per-model table of token bytes and the masks of tokens allowed in each pending-bytes state."""

    def __init__(self, pieces: list[bytes]):
        n = len(pieces)
        self.lead = np.zeros(n, dtype=np.int8)  # leading continuation bytes
        self.ok = np.zeros(n, dtype=bool)  # the bytes after them are a valid (maybe unfinished) prefix
        self.all_cont = np.zeros(n, dtype=bool)  # nothing but continuation bytes
        self.first = np.zeros(n, dtype=np.int16)  # first byte (-1 for an empty piece)
        for t, piece in enumerate(pieces):
            k = 0
            while k < len(piece) and 0x80 <= piece[k] <= 0xBF:
                k += 1
            self.lead[t] = min(k, 4)
            self.ok[t] = _valid_prefix(piece[k:])
            self.all_cont[t] = 0 < k == len(piece)
            self.first[t] = piece[0] if piece else -1
        self._masks: dict[State, np.ndarray] = {}
        self.clean = self.allowed(CLEAN)

    def allowed(self, state: State) -> np.ndarray:
        """Boolean mask of the tokens that keep the output valid UTF-8 from `state`."""
        mask = self._masks.get(state)
        if mask is None:
            due, lo, hi = state
            if due == 0:
                mask = (self.lead == 0) & self.ok
            else:
                fits = (self.first >= lo) & (self.first <= hi)
                mask = fits & (((self.lead == due) & self.ok) | (self.all_cont & (self.lead < due)))
            self._masks[state] = mask
        return mask
