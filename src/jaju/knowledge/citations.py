"""Search hits, grounded prompts with numbered sources, and citations pulled back out of answers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

_MARKER = re.compile(r"[\[【]\s*(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\s*[\]】]")
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")

GROUNDING_INSTRUCTIONS = (
    "아래 [출처]의 내용만 근거로 답하십시오. 근거로 삼은 문장 뒤에 [1]처럼 출처 번호를 붙이십시오. "
    "출처에 답이 없으면 모른다고 답하십시오.\n"
    "Answer only from the numbered sources below and cite them as [1], [2]. "
    "If the sources do not contain the answer, say so."
)


@dataclass(slots=True)
class Hit:
    """One retrieved chunk with where it came from; `start`/`end` index the document's text."""

    kb_id: str
    document_id: str
    chunk_id: int
    filename: str
    title: str
    text: str
    headings: list[str]
    page: int | None
    start: int
    end: int
    score: float
    bm25_score: float | None = None
    dense_score: float | None = None

    @property
    def section(self) -> str | None:
        return " > ".join(self.headings) if self.headings else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["section"] = self.section
        return d

    def label(self) -> str:
        where = f"p.{self.page}" if self.page is not None else (self.section or "")
        return f"{self.title or self.filename}" + (f", {where}" if where else "")


def build_grounded_messages(messages: list[dict], hits: list[Hit]) -> list[dict]:
    """A copy of `messages` with the numbered sources in a system message ahead of the conversation."""
    if not hits:
        return [dict(m) for m in messages]
    sources = "\n\n".join(f"[{n}] ({hit.label()})\n{hit.text}" for n, hit in enumerate(hits, start=1))
    grounding = f"{GROUNDING_INSTRUCTIONS}\n\n[출처]\n{sources}"
    out = [dict(m) for m in messages]
    if out and out[0].get("role") in ("system", "developer") and isinstance(out[0].get("content"), str):
        out[0]["content"] = f"{out[0]['content']}\n\n{grounding}"
    else:
        out.insert(0, {"role": "system", "content": grounding})
    return out


def _bigrams(text: str) -> set[str]:
    s = "".join(text.split())
    return {s[i:i + 2] for i in range(len(s) - 1)}


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def _best_span(claim: str, hit: Hit) -> tuple[int, int]:
    """The sentence of the cited chunk that shares most character bigrams with the claim."""
    claim_grams = _bigrams(claim)
    best, best_score = (0, len(hit.text)), 0.0
    for s, e in _sentences(hit.text):
        grams = _bigrams(hit.text[s:e])
        if not grams or not claim_grams:
            continue
        score = len(grams & claim_grams) / len(grams | claim_grams)
        if score > best_score:
            best, best_score = (s, e), score
    return best


def extract_citations(answer_text: str, hits: list[Hit]) -> list[dict]:
    """Citations for the [n] markers in an answer, in order of first use; unknown numbers are ignored.

    Each names the document, page or section, the chunk's character span in the document, the
    narrower span of the sentence that best supports the claim, and the retrieval score.
    """
    claims: dict[int, list[str]] = {}
    order: list[int] = []
    spans = _sentences(answer_text) or [(0, len(answer_text))]
    for s, e in spans:
        sentence = answer_text[s:e]
        for m in _MARKER.finditer(sentence):
            for number in re.split(r"\s*[,，、]\s*", m.group(1)):
                n = int(number)
                if not 1 <= n <= len(hits):
                    continue
                if n not in claims:
                    claims[n] = []
                    order.append(n)
                claims[n].append(_MARKER.sub("", sentence))
    inferred = False
    if not order and answer_text.strip():
        # Small models often answer from the sources without writing [n]: attribute by overlap instead.
        order = _supporting(answer_text, hits)
        claims = {n: [answer_text] for n in order}
        inferred = True
    citations = []
    for n in order:
        hit = hits[n - 1]
        qs, qe = _best_span(" ".join(claims[n]), hit)
        citations.append({
            "index": n,
            "kb_id": hit.kb_id,
            "document_id": hit.document_id,
            "chunk_id": hit.chunk_id,
            "filename": hit.filename,
            "title": hit.title,
            "page": hit.page,
            "section": hit.section,
            "start": hit.start,
            "end": hit.end,
            "quote_start": hit.start + qs,
            "quote_end": hit.start + qe,
            "quote": hit.text[qs:qe],
            "score": hit.score,
            "inferred": inferred,
        })
    return citations


def _bigrams(text: str) -> set[str]:
    compact = re.sub(r"\s+", "", _MARKER.sub("", text))
    return {compact[i:i + 2] for i in range(len(compact) - 1)}


def _supporting(answer: str, hits: list[Hit], threshold: float = 0.5, limit: int = 3) -> list[int]:
    """Sources containing most of the answer's character bigrams (Korean-friendly, no tokenizer)."""
    wanted = _bigrams(answer)
    if not wanted:
        return []
    scored = []
    for n, hit in enumerate(hits, start=1):
        share = len(wanted & _bigrams(hit.text)) / len(wanted)
        if share >= threshold:
            scored.append((share, -n, n))
    return [n for _, _, n in sorted(scored, reverse=True)[:limit]]
