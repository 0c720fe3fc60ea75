"""POST /v1/korean/segment: topic paragraphs from Kiwi sentences and e5 vectors, audited and metered."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from jaju.store.tables import AuditEvent

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
URL = "/v1/korean/segment"
DATA = Path(__file__).resolve().parents[1] / "data" / "kobill"
KIMCHI = ("배추를 반으로 갈라 소금물에 절입니다. 절인 배추는 찬물에 세 번 헹구어 물기를 뺍니다. "
          "고춧가루와 마늘, 젓갈을 섞어 양념을 만듭니다. 배추 잎 사이사이에 양념을 골고루 바릅니다.")
FOOTBALL = ("어제 저녁 대표팀은 월드컵 예선 경기에서 이겼습니다. 전반전에 주장이 헤딩으로 선제골을 넣었습니다. "
            "후반전에는 상대 팀의 역습을 골키퍼가 여러 번 막아 냈습니다. 경기가 끝나자 관중들은 선수들에게 박수를 보냈습니다.")


def auth(services) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.admin_secret}"}


def bills() -> str:
    """The "제안이유" sections of four bills (tests/data/kobill), their line breaks removed: 8 sentences."""
    parts = []
    for name in ("1809890.txt", "1809892.txt", "1809894.txt", "1809896.txt"):
        text = (DATA / name).read_text(encoding="utf-8")
        start = text.find("제안이유")
        parts.append(re.sub(r"\s+", " ", text[start:text.find("- 1 -", start)]).strip())
    return " ".join(parts)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def test_paragraphs_cut_the_text_exactly(api, services):
    text = "  " + KIMCHI + "\n\n" + FOOTBALL + " "
    r = await api.post(URL, headers=auth(services), json={"input": text, "count": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    paragraphs = body["paragraphs"]
    assert [p["text"] for p in paragraphs] == [KIMCHI, FOOTBALL]
    assert all(text[p["start"]:p["end"]] == p["text"] for p in paragraphs)
    assert [p["sentences"] for p in paragraphs] == [4, 4]
    assert body["model"] == "multilingual-e5-small" and body["usage"]["prompt_tokens"] > 0
    services.audit.flush()
    with services.db.sessions() as s:
        bodies = s.scalars(select(AuditEvent.body).where(AuditEvent.action == "korean.segment")).all()
    event = next(json.loads(b) for b in bodies if json.loads(b)["request_id"] == body["id"])
    assert event["status"] == 200 and event["paragraphs"] == 2 and event["sentences"] == 8
    assert event["jurisdiction"] == "KR" and KIMCHI[:10] not in json.dumps(event, ensure_ascii=False)


async def test_a_real_document_joins_back_to_itself(api, services):
    text = bills()
    r = await api.post(URL, headers=auth(services), json={"input": text})
    assert r.status_code == 200, r.text
    paragraphs = r.json()["paragraphs"]
    assert len(paragraphs) >= 2
    assert squeeze("".join(p["text"] for p in paragraphs)) == squeeze(text)
    assert all(text[p["start"]:p["end"]] == p["text"] for p in paragraphs)

    async def count(alpha: float) -> int:
        r = await api.post(URL, headers=auth(services), json={"input": text, "alpha": alpha, "min_sentences": 1})
        return len(r.json()["paragraphs"])

    # alpha moves the cut-off: larger gives more paragraphs
    assert await count(-1.5) < await count(0) <= await count(1.5)


async def test_post_processing_bounds_paragraph_length(api, services):
    text = bills()
    r = await api.post(URL, headers=auth(services), json={
        "input": text, "post_process": True, "post_process_max_chars": 300, "post_process_min_chars": 100})
    assert r.status_code == 200, r.text
    paragraphs = r.json()["paragraphs"]
    assert squeeze("".join(p["text"] for p in paragraphs)) == squeeze(text)
    # over the maximum only where one sentence alone is longer; under the minimum at most the last
    assert all(len(p["text"]) <= 300 or p["sentences"] == 1 for p in paragraphs)
    assert all(len(p["text"]) >= 100 for p in paragraphs[:-1])


async def test_one_sentence_is_one_paragraph(api, services):
    r = await api.post(URL, headers=auth(services), json={"input": " 서울은 한국의 수도입니다. "})
    assert r.status_code == 200
    assert [(p["text"], p["start"]) for p in r.json()["paragraphs"]] == [("서울은 한국의 수도입니다.", 1)]


@pytest.mark.parametrize("body, param", [
    ({"input": " \n "}, "input"),
    ({"input": KIMCHI, "alpha": 3}, "alpha"),
    ({"input": KIMCHI, "count": 0}, "count"),
    ({"input": KIMCHI, "post_process_max_chars": 100, "post_process_min_chars": 200}, "post_process_min_chars"),
    ({"input": KIMCHI, "model": "qwen2.5-coder-0.5b-instruct"}, "model"),
    ({"input": ["목록은", "안 됩니다"]}, "input"),
])
async def test_bad_input_is_a_400_naming_the_field(api, services, body, param):
    r = await api.post(URL, headers=auth(services), json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param
