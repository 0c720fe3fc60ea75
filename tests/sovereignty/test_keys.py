"""KeyService: envelope encryption, tamper and tenant checks, crypto-shredding, rotation; SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jaju.errors import ConfigError
from jaju.sovereignty.kek import KekError, LocalKekProvider, local_providers
from jaju.sovereignty.keys import HEADER_BYTES, CiphertextError, KeyDestroyed, KeyService, TenantJurisdictions
from jaju.sovereignty.tables import DataKey
from jaju.store import Database

KOREAN = [
    "대한민국의 수도는 서울입니다.",
    "홍길동 님의 주민등록번호는 절대 평문으로 저장하지 않습니다.",
    "서울특별시 종로구 세종대로 209 정부서울청사",
    "",
]


@pytest.fixture
def store(db: Database, keys_dir: Path):
    providers = local_providers(keys_dir, {"KR", "EU"})
    return db, providers, KeyService(db, TenantJurisdictions(db), providers)


@pytest.mark.parametrize("text", KOREAN)
@pytest.mark.parametrize("subject", [None, "holder-880101"])
def test_round_trip_korean(store, text: str, subject: str | None):
    _, _, keys = store
    blob = keys.encrypt("ten_kr", text.encode(), subject=subject, aad=b"row-1")
    assert text.encode() not in blob or not text
    assert keys.decrypt("ten_kr", blob, subject=subject, aad=b"row-1").decode() == text


def test_each_blob_has_a_fresh_nonce(store):
    _, _, keys = store
    a, b = (keys.encrypt("ten_kr", "같은 문장".encode()) for _ in range(2))
    assert a != b and a[:20] == b[:20]  # same key id, different nonce


@pytest.mark.parametrize("position", [0, 3, 5, HEADER_BYTES - 1, HEADER_BYTES, -1])
def test_tampering_is_detected(store, position: int):
    _, _, keys = store
    blob = bytearray(keys.encrypt("ten_kr", "변조 금지".encode()))
    blob[position] ^= 0x01
    with pytest.raises(CiphertextError):
        keys.decrypt("ten_kr", bytes(blob))


@pytest.mark.parametrize("tenant,subject,aad,message", [
    ("ten_kr2", None, b"row-1", "another tenant"),
    ("ten_eu", None, b"row-1", "another tenant"),
    ("ten_kr", None, b"row-2", "altered or its associated data"),
    ("ten_kr", "someone-else", b"row-1", "data subject"),
])
def test_wrong_tenant_subject_or_row_is_refused(store, tenant, subject, aad, message):
    _, _, keys = store
    blob = keys.encrypt("ten_kr", "기밀".encode(), aad=b"row-1")
    with pytest.raises(CiphertextError, match=message):
        keys.decrypt(tenant, blob, subject=subject, aad=aad)


def test_subject_blob_needs_its_subject(store):
    _, _, keys = store
    blob = keys.encrypt("ten_kr", "김철수".encode(), subject="s-1")
    with pytest.raises(CiphertextError, match="name the subject"):
        keys.decrypt("ten_kr", blob)
    with pytest.raises(CiphertextError, match="another data subject"):
        keys.decrypt("ten_kr", blob, subject="s-2")


@pytest.mark.parametrize("blob", [b"", b"JJE", b"XYZ\x01" + bytes(40), b"JJE\x02" + bytes(40)])
def test_malformed_blobs(store, blob: bytes):
    _, _, keys = store
    with pytest.raises(CiphertextError):
        keys.decrypt("ten_kr", blob)


def test_destroy_tenant_shreds_everything_and_refuses_new_data(store):
    db, providers, keys = store
    tenant_blob = keys.encrypt("ten_kr", "삭제될 내용".encode())
    subject_blob = keys.encrypt("ten_kr", "삭제될 개인".encode(), subject="s-1")
    other = keys.encrypt("ten_kr2", "남는 내용".encode())
    keys.destroy_tenant("ten_kr")
    with pytest.raises(KeyDestroyed):
        keys.decrypt("ten_kr", tenant_blob)
    with pytest.raises(KeyDestroyed):
        keys.decrypt("ten_kr", subject_blob, subject="s-1")
    with pytest.raises(KeyDestroyed, match="erased"):
        keys.encrypt("ten_kr", "새 내용".encode())
    # A second service (another replica, empty cache) cannot read it either.
    fresh = KeyService(db, TenantJurisdictions(db), providers)
    with pytest.raises(KeyDestroyed):
        fresh.decrypt("ten_kr", tenant_blob)
    assert fresh.decrypt("ten_kr2", other).decode() == "남는 내용"
    with db.sessions() as s:
        rows = s.query(DataKey).filter(DataKey.tenant_id == "ten_kr").all()
    assert rows and all(r.wrapped is None and r.destroyed_at is not None for r in rows)


def test_destroy_tenant_without_keys_still_blocks_new_data(store):
    _, _, keys = store
    keys.destroy_tenant("ten_eu")
    with pytest.raises(KeyDestroyed):
        keys.encrypt("ten_eu", b"x")


def test_destroy_subject_leaves_the_tenant_readable(store):
    _, _, keys = store
    mine = keys.encrypt("ten_kr", "이영희 상담 기록".encode(), subject="s-1")
    theirs = keys.encrypt("ten_kr", "박민수 상담 기록".encode(), subject="s-2")
    tenant = keys.encrypt("ten_kr", "공지사항".encode())
    keys.destroy_subject("ten_kr", "s-1")
    with pytest.raises(KeyDestroyed):
        keys.decrypt("ten_kr", mine, subject="s-1")
    assert keys.decrypt("ten_kr", theirs, subject="s-2").decode() == "박민수 상담 기록"
    assert keys.decrypt("ten_kr", tenant).decode() == "공지사항"
    # The subject may come back later: new data gets a new key, the shredded blob stays dead.
    again = keys.encrypt("ten_kr", "새 기록".encode(), subject="s-1")
    assert keys.decrypt("ten_kr", again, subject="s-1").decode() == "새 기록"
    with pytest.raises(KeyDestroyed):
        keys.decrypt("ten_kr", mine, subject="s-1")


def test_subjects_are_not_stored_in_the_clear(store):
    db, _, keys = store
    keys.encrypt("ten_kr", b"x", subject="hong.gildong@example.kr")
    with db.sessions() as s:
        refs = [r.subject_ref for r in s.query(DataKey).all()]
    assert "" in refs and all("hong" not in r for r in refs) and len([r for r in refs if r]) == 1


def test_rotation_rewraps_and_old_blobs_still_open(store):
    db, providers, keys = store
    kr_blobs = [keys.encrypt("ten_kr", t.encode(), subject=s) for t in KOREAN for s in (None, "s-9")]
    eu_blob = keys.encrypt("ten_eu", "EU 데이터".encode())
    assert keys.kek_versions_in_use("KR") == {1: 2}
    assert keys.rotate("KR") == 2
    assert keys.kek_versions_in_use("KR") == {2: 2}
    assert keys.kek_versions_in_use("EU") == {1: 1}
    # A fresh service reads through the new KEK version only.
    fresh = KeyService(db, TenantJurisdictions(db), local_providers(providers["KR"].dir.parent.parent, {"KR", "EU"}))
    texts = [fresh.decrypt("ten_kr", b, subject=s).decode() for b, s in zip(kr_blobs, [None, "s-9"] * len(KOREAN))]
    assert texts == [t for t in KOREAN for _ in (0, 1)]
    assert fresh.decrypt("ten_eu", eu_blob).decode() == "EU 데이터"
    # The old KEK can now be retired: removing it does not break reads.
    (providers["KR"].dir / "v0001.key").unlink()
    fresh2 = KeyService(db, TenantJurisdictions(db), local_providers(providers["KR"].dir.parent.parent, {"KR"}))
    assert fresh2.decrypt("ten_kr", kr_blobs[0]).decode() == KOREAN[0]
    assert keys.rotate("KR") == 2


def test_missing_kek_file_is_a_clear_error(store, keys_dir: Path):
    db, providers, keys = store
    blob = keys.encrypt("ten_kr", b"x")
    (providers["KR"].dir / "v0001.key").unlink()
    fresh = KeyService(db, TenantJurisdictions(db), local_providers(keys_dir, {"KR"}))
    with pytest.raises(KekError, match="missing"):
        fresh.decrypt("ten_kr", blob)


def test_jurisdiction_without_kek_source(store):
    db, providers, _ = store
    keys = KeyService(db, TenantJurisdictions(db), {"KR": providers["KR"]})
    with pytest.raises(ConfigError, match=r"\[jurisdictions.EU\] kek"):
        keys.encrypt("ten_eu", b"x")


def test_kek_files_are_private_and_never_overwritten(tmp_path: Path):
    p = LocalKekProvider(tmp_path, "kr")
    assert p.current_version() == 1
    first = (p.dir / "v0001.key").read_bytes()
    assert stat.S_IMODE(os.stat(p.dir / "v0001.key").st_mode) == 0o600
    assert p.new_version() == 2 and p.current_version() == 2
    assert (p.dir / "v0001.key").read_bytes() == first and len(first) == 32
    wrapped = p.wrap(1, b"k" * 32, b"aad")
    assert p.unwrap(1, wrapped, b"aad") == b"k" * 32
    with pytest.raises(KekError):
        p.unwrap(2, wrapped, b"aad")
