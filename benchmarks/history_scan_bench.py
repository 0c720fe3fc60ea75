"""The PII scan of a chat whose client resends the whole history every turn: with and without RecentAnalyses.

    python benchmarks/history_scan_bench.py [--turns 12] [--repeat 3]

A chat client (the OpenAI SDK, LangChain, the console) sends every earlier message again with each new
turn, so the scan of turn k reads k-1 messages it has read before. This replays one 12-turn Korean
conversation (a user with a name, a phone number and a resident registration number, and the assistant's
replies) through `PrivacyService.protect` turn by turn, as `jaju serve` would, once with the default
RecentAnalyses and once with it off (size 0); CPU time per turn, medians of `--repeat` replays, each
replay on a fresh service (an empty memory). The messages were written for this benchmark.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jaju.korean import KoreanAnalyzer  # noqa: E402
from jaju.privacy.factory import build_analyzer  # noqa: E402
from jaju.privacy.hashing import TenantHasher  # noqa: E402
from jaju.privacy.policy import PrivacyPolicy  # noqa: E402
from jaju.privacy.recent import RecentAnalyses  # noqa: E402
from jaju.privacy.service import PrivacyService  # noqa: E402
from jaju.privacy.vault import PseudonymVault  # noqa: E402
from jaju.store import Database  # noqa: E402
from tests.privacy.conftest import AesGcmKeys  # noqa: E402

USER = [
    "안녕하세요. 저는 김서윤이라고 합니다. 지난달에 신청한 주거급여 심사가 어떻게 진행되고 있는지 궁금해서 문의드립니다.",
    "주민등록번호는 950712-2345678이고, 연락처는 010-4821-3396입니다. 신청은 구청 복지정책과에서 했습니다.",
    "서류는 임대차계약서, 통장 사본, 소득 확인서를 냈는데 혹시 빠진 것이 있을까요? 담당자분 성함은 박지훈 주무관님이었어요.",
    "이사를 다음 달 15일에 할 예정인데, 이사하면 급여를 다시 신청해야 하나요? 새 주소는 서울특별시 마포구 월드컵북로 400입니다.",
    "그리고 어머니께서 기초연금을 받고 계신데, 같은 세대로 묶이면 제 급여액이 달라지는지도 알고 싶습니다.",
    "소득 확인서는 회사에서 발급받았고, 작년 연봉은 세전 2,800만 원 정도입니다. 부업 소득은 따로 없습니다.",
    "혹시 심사 결과를 문자로 받을 수 있나요? 위에 드린 번호로 보내 주시면 됩니다. 이메일은 seoyun.kim@example.kr입니다.",
    "마지막으로, 결과에 이의가 있으면 어디에 어떻게 신청하면 되는지 절차를 순서대로 알려 주세요.",
    "친절한 답변 감사합니다. 말씀하신 대로 준비해서 다음 주 화요일 오전에 구청에 방문하겠습니다.",
    "아, 방문할 때 신분증 말고 더 가져가야 할 것이 있을까요? 대리인이 가도 되는지도 궁금합니다.",
    "대리인은 제 동생 김도윤이 갈 수도 있습니다. 동생 연락처는 010-7713-2048입니다.",
    "정리해 주셔서 감사합니다. 오늘 상담 내용을 요약해서 다시 한 번 보내 주시겠어요?",
]
ASSISTANT = ("문의하신 내용을 확인했습니다. 주거급여는 신청일로부터 30일 안에 결과를 알려 드리며, 조사가 필요한 경우 "
             "60일까지 연장될 수 있습니다. 필요한 서류와 절차를 차례대로 안내해 드리겠습니다.")


def service(db: Database, hasher: TenantHasher, analyzer, recent: RecentAnalyses) -> PrivacyService:
    return PrivacyService(analyzer, PseudonymVault(db, AesGcmKeys(), hasher), hasher, recent)


def replay(svc: PrivacyService, turns: int, conversation: str) -> list[float]:
    """CPU seconds of each turn's protect() over the whole history so far."""
    policy = PrivacyPolicy()
    history: list[dict] = []
    times = []
    for k in range(turns):
        history.append({"role": "user", "content": USER[k % len(USER)]})
        start = time.process_time()
        svc.protect("t-bench", history, policy, conversation)
        times.append(time.process_time() - start)
        history.append({"role": "assistant", "content": ASSISTANT})
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="jaju-history-"))
    db = Database(f"sqlite:///{tmp / 'jaju.db'}")
    db.migrate()
    hasher = TenantHasher.load_or_create(tmp / "keys")
    analyzer = build_analyzer(KoreanAnalyzer())
    analyzer.analyze(USER[0])  # Kiwi's first call pays its warm-up
    runs: dict[str, list[list[float]]] = {"off": [], "on": []}
    for i in range(args.repeat):
        for name, size in (("off", 0), ("on", RecentAnalyses().size)):  # alternate, fresh memory each replay
            runs[name].append(replay(service(db, hasher, analyzer, RecentAnalyses(size)), args.turns,
                                     f"conv-{name}-{i}"))
    print(f"{'turn':>4} {'messages':>8} {'memory off ms':>14} {'memory on ms':>13}")
    for k in range(args.turns):
        off = statistics.median(r[k] for r in runs["off"]) * 1000
        on = statistics.median(r[k] for r in runs["on"]) * 1000
        print(f"{k + 1:>4} {2 * k + 1:>8} {off:>14.2f} {on:>13.2f}")
    off_total = statistics.median(sum(r) for r in runs["off"]) * 1000
    on_total = statistics.median(sum(r) for r in runs["on"]) * 1000
    print(f"whole conversation: {off_total:.1f} ms without the memory, {on_total:.1f} ms with it "
          f"({off_total / on_total:.1f}x less CPU)")


if __name__ == "__main__":
    main()
