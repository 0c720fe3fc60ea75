"""Structure-aware chunking: 조 stay whole, long 조 split at 항/호 with their lead line, bills' wrapping survives."""

from __future__ import annotations

import pytest

from jaju.knowledge.chunking import Chunker, approx_tokens
from jaju.knowledge.parsers import parse_document
from jaju.knowledge.structure import ARTICLE, BULLET, ITEM, PARAGRAPH, SUBITEM, lead_line, marker_level, outline

STATUTE = """대한민국헌법

       제3장 국회
  제40조 입법권은 국회에 속한다.
  제41조 ① 국회는 국민의 보통·평등·직접·비밀선거에 의하여 선출된 국회의원으로 구성한다.
②국회의원의 수는 법률로 정하되, 200인 이상으로 한다.
③국회의원의 선거구와 비례대표제 기타 선거에 관한 사항은 법률로 정한다.
  제42조 국회의원의 임기는 4년으로 한다.
  제53조 ① 국회에서 의결된 법률안은 정부에 이송되어 15일 이내에 대통령이 공포한다.
②법률안에 이의가 있을 때에는 대통령은 제1항의 기간내에 이의서를 붙여 국회로 환부하고, 그 재의를 요구할 수 있다. 국회의 폐회중에도 또한 같다.
③대통령은 법률안의 일부에 대하여 또는 법률안을 수정하여 재의를 요구할 수 없다.
④재의의 요구가 있을 때에는 국회는 재의에 붙이고, 재적의원과반수의 출석과 출석의원 3분의 2 이상의 찬성으로 전과 같은 의결을 하면 그 법률안은 법률로서 확정된다.
⑤대통령이 제1항의 기간내에 공포나 재의의 요구를 하지 아니한 때에도 그 법률안은 법률로서 확정된다.
⑥대통령은 제4항과 제5항의 규정에 의하여 확정된 법률을 지체없이 공포하여야 한다.
⑦법률은 특별한 규정이 없는 한 공포한 날로부터 20일을 경과함으로써 효력을 발생한다.
       제4장 정부
  제89조 다음 사항은 국무회의의 심의를 거쳐야 한다.
1. 국정의 기본계획과 정부의 일반정책
2. 선전·강화 기타 중요한 대외정책
3. 헌법개정안·국민투표안·조약안·법률안 및 대통령령안
4. 예산안·결산·국유재산처분의 기본계획·국가의 부담이 될 계약 기타 재정에 관한 중요사항
5. 대통령의 긴급명령·긴급재정경제처분 및 명령 또는 계엄과 그 해제
6. 군사에 관한 중요사항
7. 국회의 임시회 집회의 요구
8. 영전수여
9. 사면·감형과 복권
10. 행정각부간의 권한의 획정
11. 정부안의 권한의 위임 또는 배정에 관한 기본계획
12. 국정처리상황의 평가·분석
13. 행정각부의 중요한 정책의 수립과 조정
14. 정당해산의 제소
  제90조 ① 국정의 중요한 사항에 관한 대통령의 자문에 응하기 위하여 국가원로로 구성되는 국가원로자문회의를 둘 수 있다.
②국가원로자문회의의 의장은 직전대통령이 된다. 다만, 직전대통령이 없을 때에는 대통령이 지명한다.
"""

# A bill as konlpy ships it: lines wrapped mid-word, blank lines between some of them, page footers.
BILL = """결혼중개업의 관리에 관한 법률 일부개정법률안

제4조의2(국제결혼중개업체의 공시) ① 시장ㆍ군수ㆍ구청장은 다음 각 

호의 사항을 공시하여야 한다.

 1. 현재 등록된 국제결혼중개업체 현황

 2. 제18조에 따라 영업정지 및 등록취소 등의 조치를 받은 경우 그 

조치에 관한 사항

 ② 제1항에 따른 공시의 시기 및 방법 등에 필요한 사항은 여성가족부

령으로 정한다.

- 5 -

제10조의2제1항제2호 중 “(후천성면역결핍증 및 성병 등의 감염 여부를 포함한다)”를 고치고, 같은 조

제7조 중 교육공무원의 육아휴직 가능 자녀의 연령을 만6세 이하에서 만8세 이하로 하고, 예상인원은 2,836명이

다. 2007년부터 2011년까지의 현황을 정리하면 다음의 [표]와 같다.
"""


@pytest.mark.parametrize("line,expected", [
    ("  제12조 ① 모든 국민은 신체의 자유를 가진다.", (ARTICLE, True)),
    ("제50조의3(간호과의 수업연한 및 학위에 관한 특례) ① 대통령령이 정하는", (ARTICLE, True)),
    ("제3조 대한민국의 영토는 한반도와 그 부속도서로 한다.", (ARTICLE, True)),
    ("②대한민국의 주권은 국민에게 있고", (PARAGRAPH, False)),
    ("1. 헌법이나 법률에 의하여 설치된 기관", (ITEM, False)),
    ("1의2. 당사자의 신청이 있는 경우", (ITEM, False)),
    ("  가. 국군부대의 임무는 UAE군 특수전 부대에 대한 교육훈련 지원", (SUBITEM, False)),
    ("○ 인원 : 310명 이내", (BULLET, False)),
    # near misses: amendment instructions, sentence endings, dates and page footers are text
    ("제63조제2항제4호 중 “만 6세 이하”를", None),
    ("제7조 중 교육공무원의 육아휴직 가능 자녀의 연령을", None),
    ("제43조 중 “20일이상”을 “50일 이상”으로 한다.", None),
    ("제4조의2를 다음과 같이 신설한다.", None),
    ("다.", None),
    ("2010. 11. 12.", None),
    ("- 3 -", None),
    ("대한민국은 민주공화국이다.", None),
])
def test_marker_levels(line, expected):
    assert marker_level(line) == expected


def test_outline_of_a_chapter_keeps_articles_with_their_paragraphs_and_items():
    start = STATUTE.index("제3장")
    blocks = outline(STATUTE, start, STATUTE.index("       제4장"))
    articles = [STATUTE[b.start:b.end].split()[0] for b in blocks if b.article]
    assert articles == ["제40조", "제41조", "제42조", "제53조"]
    art53 = next(b for b in blocks if STATUTE[b.start:].startswith("제53조"))
    assert len(art53.children) == 6  # ② .. ⑦; ① is on the article's own line
    assert STATUTE[art53.end - 1] == "."
    gov = outline(STATUTE, STATUTE.index("제4장"), len(STATUTE))
    art89 = next(b for b in gov if STATUTE[b.start:].startswith("제89조"))
    assert len(art89.children) == 14
    assert lead_line(STATUTE, art89) == "제89조 다음 사항은 국무회의의 심의를 거쳐야 한다."


def test_wrapped_bill_lines_stay_in_their_block():
    blocks = outline(BILL, 0, len(BILL))
    article = next(b for b in blocks if b.article)
    assert BILL[article.start:].startswith("제4조의2(국제결혼중개업체의 공시)")
    assert [BILL[c.start:c.end].split()[0] for c in article.children] == ["1.", "2.", "②"]
    item2 = article.children[1]
    assert BILL[item2.start:item2.end].endswith("조치에 관한 사항")  # the wrapped line came along
    assert lead_line(BILL, article) == "제4조의2(국제결혼중개업체의 공시) ① 시장ㆍ군수ㆍ구청장은 다음 각 호의 사항을 공시하여야 한다."
    # A wrapped "제7조 중 ..." and "다. 2007년..." continue the prose, they open nothing.
    starts = [BILL[b.start:b.start + 4] for b in blocks]
    assert "제7조 " not in starts and "다. 2" not in starts


def test_an_article_that_fits_is_one_chunk(analyzer):
    doc = parse_document("헌법.txt", STATUTE.encode())
    chunks = Chunker(analyzer, approx_tokens, 120, 24).chunk(doc)
    art41 = [c for c in chunks if "제41조" in c.text]
    assert len(art41) == 1
    assert "①" in art41[0].text and "③국회의원의 선거구와" in art41[0].text
    # Nothing else was cut: every article's text is inside one chunk or split only at 항/호 starts.
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.tokens <= 120


def test_a_long_article_splits_at_paragraphs_and_carries_its_lead(analyzer):
    doc = parse_document("헌법.txt", STATUTE.encode())
    chunks = Chunker(analyzer, approx_tokens, 70, 10).chunk(doc)  # every 항 fits 70, 제53조 does not
    art53 = [c for c in chunks if c.start >= doc.text.index("제53조") and c.end <= doc.text.index("제4장")]
    assert len(art53) > 1
    assert art53[0].text.startswith("제53조 ①")
    for c in art53[1:]:
        assert c.text[0] in "②③④⑤⑥⑦"  # each piece starts at a 항
        assert c.headings[-1] == "제53조 ① 국회에서 의결된 법률안은 정부에 이송되어 15일 이내에 대통령이 공포한다."
        assert "제53조" in c.context("대한민국헌법")
    items = [c for c in chunks if "14. 정당해산의 제소" in c.text]
    assert items and items[0].headings[-1] == "제89조 다음 사항은 국무회의의 심의를 거쳐야 한다."
    assert all(c.tokens <= 70 for c in chunks)


def test_structure_off_is_the_sentence_window_chunker(analyzer):
    doc = parse_document("헌법.txt", STATUTE.encode())
    windows = Chunker(analyzer, approx_tokens, 60, 10, structure=False).chunk(doc)
    assert all(c.headings in ((), ("제3장 국회",), ("제4장 정부",)) for c in windows)
    assert any(b.start < a.end for a, b in zip(windows, windows[1:]))  # windows overlap
    structured = Chunker(analyzer, approx_tokens, 60, 10).chunk(doc)
    assert all(b.start >= a.end for a, b in zip(structured, structured[1:]))  # blocks do not


def test_numbered_blocks_have_their_own_budget(analyzer):
    doc = parse_document("헌법.txt", STATUTE.encode())
    chunks = Chunker(analyzer, approx_tokens, 60, 10, block_tokens=400).chunk(doc)
    art53 = next(c for c in chunks if "제53조" in c.text)
    assert "⑦법률은 특별한 규정이 없는 한" in art53.text and 60 < art53.tokens <= 400  # whole, over 60
