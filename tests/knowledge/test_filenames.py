"""Uploaded names: reduced to a bare file name, and screened for personal data by the tenant's policy."""

from __future__ import annotations

import pytest

from jaju.knowledge.filenames import PiiBlocked, clean_filename, screen_filename
from jaju.privacy.policy import PrivacyPolicy

RRN = "850315-1234567"


@pytest.mark.parametrize("given,stored", [
    ("../../x.txt", "x.txt"),
    ("/etc/passwd", "passwd"),
    ("C:\\Users\\김민수\\문서\\민원 답변.hwp", "민원 답변.hwp"),
    ("..\\..\\보고서.pdf", "보고서.pdf"),
    ("결재\x00안.docx", "결재안.docx"),
    ("계약서\u202egpj.exe", "계약서gpj.exe"),  # right-to-left override hides the real extension
    ("줄\n바꿈\r.txt", "줄바꿈.txt"),
    (".bashrc", "bashrc"),
    ("..", "document"),
    ("", "document"),
    (None, "document"),
    ("ㅎㅏㄴ.txt", "ㅎㅏㄴ.txt"),
    ("한글" + "가" * 300 + ".hwpx", "한글" + "가" * 248 + ".hwpx"),
])
def test_clean_filename(given, stored):
    assert clean_filename(given) == stored
    assert len(clean_filename(given)) <= 255


def test_identifiers_in_a_name_are_masked_by_the_default_policy(privacy):
    stored = screen_filename(privacy, "t_seoul", f"민원_{RRN}_010-2345-6789.txt", PrivacyPolicy())
    assert RRN not in stored and "010-2345-6789" not in stored
    assert stored.startswith("민원_850315-1") and stored.endswith(".txt")  # mask keeps the shape


def test_a_name_without_personal_data_is_kept(privacy):
    assert screen_filename(privacy, "t_seoul", "2026년 예산안 심의 자료.hwp", PrivacyPolicy()) == \
        "2026년 예산안 심의 자료.hwp"


def test_block_refuses_the_file_without_echoing_the_value(privacy):
    policy = PrivacyPolicy.from_dict({"KR_RRN": {"storage": "block"}})
    with pytest.raises(PiiBlocked) as e:
        screen_filename(privacy, "t_seoul", f"진단서_{RRN}.pdf", policy)
    assert RRN not in str(e.value) and "KR_RRN" in str(e.value)
    assert e.value.code == "pii_blocked"


def test_upload_reports_the_screened_name(service):
    kb = service.create_kb("t_seoul", "민원")
    policy = PrivacyPolicy.from_dict({"KR_RRN": {"storage": "block"}})
    results = service.add_documents("t_seoul", kb.id, [
        (f"../../진단서_{RRN}.txt", "진단 내용입니다.".encode()),
        ("../../../회의록.txt", "2026년 예산 회의록입니다.".encode()),
    ], policy=policy)
    blocked, ok = results
    assert not blocked.ok and blocked.code == "pii_blocked" and RRN not in str(blocked.to_dict())
    assert ok.ok and ok.document["filename"] == "회의록.txt"
    assert [d["filename"] for d in service.list_documents("t_seoul", kb.id)] == ["회의록.txt"]
