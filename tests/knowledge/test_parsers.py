"""Every parser on small documents the tests build, and corrupt, encrypted or unsupported files."""

from __future__ import annotations

import io
import zipfile

import olefile
import pytest

from jaju.knowledge.errors import CorruptDocument, EmptyDocument, EncryptedDocument, UnsupportedFormat
from jaju.knowledge.parsers import detect_format, parse_document
from jaju.knowledge.parsers.hwp import para_text
from tests.knowledge.builders import NANUM, build_docx, build_hwp, build_hwpx, build_pdf

HWP_FLAG_PASSWORD, HWP_FLAG_DISTRIBUTION = 0x02, 0x04

needs_font = pytest.mark.skipif(not NANUM.exists(), reason=f"Korean font {NANUM} missing: apt-get install fonts-nanum")


def _assert_offsets(doc):
    for s in doc.sections:
        assert 0 <= s.start < s.end <= len(doc.text)
        assert doc.text[s.start:s.end].strip() == doc.text[s.start:s.end].strip("\n").strip()


def test_txt_utf8_with_legal_headings():
    data = "지방공무원법 일부개정법률안\n\n제1장 총칙\n제1조 공무원은 육아휴직을 할 수 있다.\n제2장 보칙\n제2조 시행한다.\n".encode()
    doc = parse_document("bill.txt", data)
    assert doc.format == "txt" and doc.title == "지방공무원법 일부개정법률안"
    by_heading = {s.headings: doc.text[s.start:s.end] for s in doc.sections}
    assert "제1조 공무원은 육아휴직을 할 수 있다." in by_heading[("제1장 총칙",)]
    assert "제2조 시행한다." in by_heading[("제2장 보칙",)]
    _assert_offsets(doc)


@pytest.mark.parametrize("encoding", ["cp949", "utf-16", "utf-8-sig"])
def test_txt_korean_encodings(encoding):
    doc = parse_document("공문.txt", "대한민국의 주권은 국민에게 있다.".encode(encoding))
    assert doc.text == "대한민국의 주권은 국민에게 있다."


def test_markdown_headings_and_front_matter():
    data = "---\nauthor: 홍길동\n---\n# 개인정보 처리방침\n\n## 수집 항목\n이름과 연락처를 수집합니다.\n```\n# 코드 안의 샵\n```\n".encode()
    doc = parse_document("policy.md", data)
    assert doc.title == "개인정보 처리방침"
    assert "홍길동" not in doc.text
    section = next(s for s in doc.sections if "이름과 연락처" in doc.text[s.start:s.end])
    assert section.headings == ("개인정보 처리방침", "수집 항목")
    assert not any("코드 안의 샵" in h for s in doc.sections for h in s.headings)


def test_html_visible_text_and_headings():
    data = ("<html><head><title>민원 안내</title><style>p{color:red}</style></head><body>"
            "<h1>여권 발급</h1><p>여권은 구청에서&nbsp;신청합니다.</p><script>var x='숨김';</script>"
            "<h2>수수료</h2><p>수수료는 5만 원입니다.</p></body></html>").encode()
    doc = parse_document("page.html", data)
    assert doc.title == "민원 안내"
    assert "숨김" not in doc.text and "color" not in doc.text
    fee = next(s for s in doc.sections if "수수료는" in doc.text[s.start:s.end])
    assert fee.headings == ("여권 발급", "수수료")


@needs_font
def test_pdf_korean_text_layer_and_pages():
    pdf = build_pdf(["제1조 대한민국은 민주공화국이다.", "제40조 입법권은 국회에 속한다."], title="헌법 발췌")
    doc = parse_document("헌법.pdf", pdf)
    assert (doc.format, doc.title, doc.pages) == ("pdf", "헌법 발췌", 2)
    pages = {s.page: doc.text[s.start:s.end] for s in doc.sections}
    assert "민주공화국" in pages[1] and "입법권은 국회에" in pages[2]


@needs_font
def test_pdf_with_user_password_is_refused_but_owner_only_opens():
    with pytest.raises(EncryptedDocument, match="password"):
        parse_document("secret.pdf", build_pdf(["비밀 문서"], password="1234"))
    assert "열람 제한" in parse_document("owner.pdf", build_pdf(["열람 제한 문서"], password="")).text


def test_docx_heading_styles_resolved_from_styles_xml():
    docx = build_docx("연차 보고서", [("title", "2024 연차 보고서"), ("h1", "개요"), ("p", "대통령의 임기는 5년이다."),
                                    ("h2", "세부 사항"), ("p", "대통령은 중임할 수 없다.")])
    doc = parse_document("report.docx", docx)
    assert doc.title == "연차 보고서"
    section = next(s for s in doc.sections if "중임" in doc.text[s.start:s.end])
    assert section.headings == ("개요", "세부 사항")
    _assert_offsets(doc)


def test_hwpx_outline_styles_title_and_table_text():
    hwpx = build_hwpx("육아휴직 안내", [("h1", "제1장 총칙"), ("p", "공무원은 육아휴직을 할 수 있다."),
                                     ("h2", "기간"), ("p", "육아휴직 기간은 3년 이내로 한다.")])
    doc = parse_document("안내.hwpx", hwpx)
    assert (doc.format, doc.title) == ("hwpx", "육아휴직 안내")
    section = next(s for s in doc.sections if "3년 이내" in doc.text[s.start:s.end])
    assert section.headings == ("제1장 총칙", "기간")
    assert "표 안의 내용" in doc.text


@pytest.mark.parametrize("compressed", [True, False])
def test_hwp5_body_text_controls_skipped(compressed):
    paragraphs = ["지방공무원법 일부개정법률안", "제1장 총칙", "제1조(목적)\t이 법은 공무원의 육아휴직을 정한다.",
                  "긴 본문 " * 600]  # > 4095 bytes: an extended-size record, and a regular (non-mini) stream
    doc = parse_document("법률안.hwp", build_hwp(paragraphs, compressed=compressed))
    assert doc.format == "hwp" and doc.title == "지방공무원법 일부개정법률안"
    assert "제1조(목적)\t이 법은 공무원의 육아휴직을 정한다." in doc.text
    assert "dces" not in doc.text and "\x02" not in doc.text
    assert any(s.headings == ("제1장 총칙",) for s in doc.sections)


def test_hwp_para_text_keeps_surrogate_pairs():
    assert para_text("한글 😀".encode("utf-16-le") + b"\r\x00") == "한글 😀\n"


@pytest.mark.parametrize("name,data,error,message", [
    ("empty.txt", b"", CorruptDocument, "empty"),
    ("fake.pdf", "PDF가 아닌 텍스트".encode(), CorruptDocument, "not a PDF"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", CorruptDocument, "cannot be read"),
    ("fake.docx", b"PK\x03\x04garbage", CorruptDocument, "zip"),
    ("old.hwp", b"HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05", UnsupportedFormat, "HWP 3.0"),
    ("truncated.hwp", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, CorruptDocument, "OLE"),
    ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00", UnsupportedFormat, "not supported"),
    ("blank.md", "\n\n   \n".encode(), EmptyDocument, "no text"),
])
def test_bad_files_raise_clear_errors(name, data, error, message):
    with pytest.raises(error, match=message) as info:
        parse_document(name, data)
    assert info.value.filename == name


@pytest.mark.parametrize("flag,message", [(HWP_FLAG_PASSWORD, "password"), (HWP_FLAG_DISTRIBUTION, "배포용")])
def test_protected_hwp_refused(flag, message):
    with pytest.raises(EncryptedDocument, match=message):
        parse_document("비밀.hwp", build_hwp(["기밀 내용"], flags=flag))


def test_hwp_with_damaged_body_stream():
    hwp = bytearray(build_hwp(["본문 내용 " * 50]))
    # Break the deflate data of Section0 inside the mini stream, leaving the container intact.
    ole = olefile.OleFileIO(bytes(hwp))
    raw = ole.openstream("BodyText/Section0").read()
    ole.close()
    pos = bytes(hwp).find(raw[:16])
    hwp[pos:pos + 16] = b"\xff" * 16
    with pytest.raises(CorruptDocument, match="decompress|damaged"):
        parse_document("broken.hwp", bytes(hwp))


def test_zip_that_is_neither_docx_nor_hwpx():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("photo.jpg", b"\xff\xd8")
    with pytest.raises(UnsupportedFormat, match="neither DOCX nor HWPX"):
        parse_document("archive.zip", buf.getvalue())


def test_magic_bytes_win_over_extension():
    hwpx = build_hwpx("제목", [("p", "본문")])
    assert detect_format("renamed.zip", hwpx) == "hwpx"
    assert detect_format("no-extension", build_hwp(["본문"])) == "hwp"
    assert detect_format("notes", "그냥 텍스트".encode()) == "txt"
