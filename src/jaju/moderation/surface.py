"""How a verb stem looks once conjugated, as a regular expression: a cheap check before asking Kiwi.

죽이 appears as 죽이/죽여/죽일/죽인, 찌르 as 찌르/찔러/찔렀, 쏘 as 쏘/쏴/쐈, 긋 as 긋/그어, 자살하 as
자살. `stem_pattern` writes one pattern that every such form matches (it may match more: it only has to
never miss), so the intent rules can skip Kiwi for texts that cannot contain any of their words.
"""

from __future__ import annotations

import re

from jaju.moderation.normalize import compose, decompose, is_syllable

# A stem's last vowel fused with the ending -어/-아: 쏘+아 = 쏴, 주+어 = 줘, 때리+어 = 때려, 쓰+어 = 써.
FUSED = {"ㅗ": "ㅘ", "ㅜ": "ㅝ", "ㅣ": "ㅕ", "ㅡ": "ㅓ", "ㅚ": "ㅙ"}
# Finals that change before a vowel in irregular verbs: 긋+어 = 그어, 묻+어 = 물어, 눕+어 = 누워.
IRREGULAR = {"ㅅ": "", "ㄷ": "ㄹ", "ㅂ": "", "ㅎ": ""}
FINALS = ("", "ㄱ", "ㄴ", "ㄹ", "ㅁ", "ㅂ", "ㅅ", "ㅆ", "ㅇ")


def stem_pattern(lemma: str) -> str:
    """A regex for the spellings of a verb stem (or noun + 하다) at the start of its conjugated forms."""
    if len(lemma) > 1 and lemma.endswith("하"):
        return re.escape(lemma[:-1])  # 자살하 -> 자살: the noun never changes
    if not all(is_syllable(c) for c in lemma):
        return re.escape(lemma)
    head, last = lemma[:-1], lemma[-1]
    if last == "르" and head:
        # 르 verbs move their ㄹ onto the syllable before: 찌르 + 어 = 찔러, 조르 + 아 = 졸라.
        lead, vowel, final = decompose(head[-1])
        moved = head[:-1] + compose(lead, vowel, "ㄹ")
        return f"(?:{re.escape(head)}{_syllable(last)}|{re.escape(moved)}[러라렀랐])"
    return re.escape(head) + _syllable(last)


def _syllable(ch: str) -> str:
    lead, vowel, final = decompose(ch)
    if final == "ㄹ":
        # ㄹ drops before ㄴ, ㅂ, ㅅ: 살 -> 사는/산다/삽니다, 매달 -> 매단
        return "[" + "".join(compose(lead, vowel, f) for f in FINALS) + "]"
    if final:
        variants = {ch}
        if final in IRREGULAR:
            variants.add(compose(lead, vowel, IRREGULAR[final]))
        return "[" + "".join(sorted(variants)) + "]"
    vowels = {vowel, FUSED.get(vowel, vowel)}
    if vowel == "ㅣ" and lead == "ㅇ":
        vowels.add("ㅕ")  # 죽이 + 어 = 죽여
    if ch == "하":
        vowels.add("ㅐ")  # 하 + 여 = 해
    return "[" + "".join(compose(lead, v, f) for v in sorted(vowels) for f in FINALS) + "]"
