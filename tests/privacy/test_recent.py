"""RecentAnalyses: a resent message is not analysed again, its results are the same, and no text is kept."""

from __future__ import annotations

import threading

from jaju.korean import KoreanAnalyzer
from jaju.privacy.factory import build_analyzer
from jaju.privacy.policy import PrivacyPolicy
from jaju.privacy.recent import RecentAnalyses

RRN = "900101-1234567"
TEXT = f"고객 홍길동님의 주민등록번호는 {RRN}이고, 서울시 종로구 세종대로 209에 삽니다."

_ANALYZER = None


def analyzer():
    global _ANALYZER
    if _ANALYZER is None:
        _ANALYZER = build_analyzer(KoreanAnalyzer())
    return _ANALYZER


class Counting:
    def __init__(self):
        self.calls = 0

    def run(self, text: str, threshold: float = 0.5):
        def go():
            self.calls += 1
            return analyzer().analyze(text, score_threshold=threshold)
        return go


def spans(results):
    return [(r.entity_type, r.start, r.end, r.score, r.recognizer) for r in results]


def test_a_resent_text_is_analysed_once_with_the_same_results():
    recent, counting = RecentAnalyses(), Counting()
    first = recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    again = recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    assert counting.calls == 1 and recent.hits == 1
    assert spans(again) == spans(first) and {r.entity_type for r in first} >= {"KR_RRN", "PERSON"}
    assert any(r.entity_type == "KR_RRN" and TEXT[r.start:r.end] == RRN for r in again)


def test_hits_are_fresh_objects_so_a_caller_may_change_them():
    recent, counting = RecentAnalyses(), Counting()
    recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    changed = recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    expected = spans(changed)
    for r in changed:
        r.start, r.end = 0, 0
    assert spans(recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))) == expected


def test_another_threshold_or_text_is_analysed_afresh():
    recent, counting = RecentAnalyses(), Counting()
    recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT, 0.5))
    high = recent.analyze("ten_a", TEXT, 0.99, counting.run(TEXT, 0.99))
    other = TEXT.replace("홍길동", "김철수")
    recent.analyze("ten_a", other, 0.5, counting.run(other))
    assert counting.calls == 3 and recent.hits == 0
    assert spans(high) == spans(analyzer().analyze(TEXT, score_threshold=0.99))


def test_no_text_or_value_is_kept():
    recent, counting = RecentAnalyses(), Counting()
    recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    kept = repr(recent._entries) + repr(vars(recent))
    for secret in (TEXT, RRN, "1234567", "홍길동", "세종대로"):
        assert secret not in kept
    assert all(len(digest) == 16 for digest in recent._entries)


def test_bounded_least_recently_used_out_first():
    recent = RecentAnalyses(size=2)
    texts = [f"{name}님께 보낸 안내문입니다. 확인 부탁드립니다." for name in ("김민준", "이서연", "박지호")]
    counting = Counting()
    recent.analyze("ten_a", texts[0], 0.5, counting.run(texts[0]))
    recent.analyze("ten_a", texts[1], 0.5, counting.run(texts[1]))
    recent.analyze("ten_a", texts[0], 0.5, counting.run(texts[0]))  # texts[0] is now the most recent
    recent.analyze("ten_a", texts[2], 0.5, counting.run(texts[2]))  # pushes out texts[1]
    assert len(recent) == 2 and counting.calls == 3
    recent.analyze("ten_a", texts[0], 0.5, counting.run(texts[0]))
    assert counting.calls == 3
    recent.analyze("ten_a", texts[1], 0.5, counting.run(texts[1]))
    assert counting.calls == 4


def test_short_texts_are_not_kept():
    recent, counting = RecentAnalyses(), Counting()
    for _ in range(2):
        recent.analyze("ten_a", "네, 알겠습니다.", 0.5, counting.run("네, 알겠습니다."))
    assert counting.calls == 2 and len(recent) == 0


def test_threads_share_it_safely():
    recent = RecentAnalyses(size=64)
    texts = [f"{i}번째 상담 기록: 고객 홍길동님, 연락처 010-1234-{i:04d}." for i in range(100)]
    expected = {t: spans(analyzer().analyze(t)) for t in texts}
    errors = []

    def work(offset: int):
        for k in range(200):
            t = texts[(k + offset) % len(texts)]
            got = spans(recent.analyze("ten_a", t, 0.5, lambda t=t: analyzer().analyze(t, score_threshold=0.5)))
            if got != expected[t]:
                errors.append(t)

    threads = [threading.Thread(target=work, args=(i * 7,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(recent) <= 64 and recent.hits > 0


def test_a_resent_conversation_is_protected_the_same_way_and_analysed_once(service, monkeypatch) -> None:
    """A chat resends its history each turn: the old turns come out exactly as before, without a new analysis."""
    policy = PrivacyPolicy(surrogates=frozenset())
    key = "conv-recent"
    history = [{"role": "user", "content": f"홍길동입니다. 주민등록번호는 {RRN}이고 연락처는 010-2345-6789입니다."},
               {"role": "assistant", "content": "[PERSON_1]님, 확인했습니다. 무엇을 도와드릴까요?"}]
    calls = []
    real = service.analyzer.analyze
    monkeypatch.setattr(service.analyzer, "analyze", lambda text, *a, **k: calls.append(text) or real(text, *a, **k))
    turn1, _ = service.protect("tenant-r", history[:1], policy, key)
    turn2, session = service.protect("tenant-r", [*history, {"role": "user", "content": "주소는 서울시 종로구 "
                                                             "세종대로 209입니다. 기록해 주세요."}], policy, key)
    assert turn2[0] == turn1[0] and RRN not in turn2[0]["content"] and "[KR_RRN_1]" in turn2[0]["content"]
    assert calls.count(history[0]["content"]) == 1  # analysed in turn 1 only
    assert session.restore(turn2[0]["content"]) == history[0]["content"]


def test_one_tenant_never_gets_another_tenants_analysis():
    """Same text, another tenant: analysed afresh, so a tenant cannot time whether another just sent it."""
    recent, counting = RecentAnalyses(), Counting()
    recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    from_b = recent.analyze("ten_b", TEXT, 0.5, counting.run(TEXT))
    assert counting.calls == 2 and recent.hits == 0
    recent.analyze("ten_a", TEXT, 0.5, counting.run(TEXT))
    recent.analyze("ten_b", TEXT, 0.5, counting.run(TEXT))
    assert counting.calls == 2 and recent.hits == 2
    assert spans(from_b) == spans(analyzer().analyze(TEXT))
