"""/v1/files with the official openai client: upload, list, retrieve, download, delete; tenant isolation."""

from __future__ import annotations

import openai
import pytest
from sqlalchemy import select

from jaju.files.tables import StoredFile

pytestmark = pytest.mark.anyio
JSONL = ('{"custom_id": "질문-1", "method": "POST", "url": "/v1/chat/completions", '
         '"body": {"model": "qwen2.5-coder-0.5b-instruct", "messages": [{"role": "user", "content": "안녕하세요"}]}}\n'
         ).encode("utf-8")


async def test_upload_list_retrieve_download_delete(client, batch_services):
    f = await client.files.create(file=("../../민원_질문.jsonl", JSONL), purpose="batch")
    assert f.id.startswith("file-") and f.object == "file" and f.status == "processed"
    assert f.bytes == len(JSONL) and f.purpose == "batch"
    assert f.filename == "민원_질문.jsonl"  # the path is cut, the Korean name kept

    got = await client.files.retrieve(f.id)
    assert (got.id, got.filename, got.bytes) == (f.id, f.filename, f.bytes)
    assert (await client.files.content(f.id)).content == JSONL

    listed = [x.id async for x in client.files.list(purpose="batch")]
    assert f.id in listed

    # At rest the content and the name are ciphertext.
    with batch_services.stores.for_tenant(_tenant(batch_services)).sessions() as s:
        row = s.scalars(select(StoredFile).where(StoredFile.id == f.id)).one()
    assert "안녕하세요".encode() not in row.content and "민원".encode() not in row.filename

    deleted = await client.files.delete(f.id)
    assert deleted.deleted and deleted.id == f.id
    with pytest.raises(openai.NotFoundError):
        await client.files.retrieve(f.id)


async def test_list_pages_in_order(client):
    ids = [(await client.files.create(file=(f"p{i}.jsonl", JSONL), purpose="batch")).id for i in range(3)]
    page = await client.files.list(purpose="batch", limit=2, order="asc")
    newest_first = [x.id for x in (await client.files.list(purpose="batch", order="desc")).data]
    assert newest_first.index(ids[2]) < newest_first.index(ids[1]) < newest_first.index(ids[0])
    assert len(page.data) == 2 and page.has_more
    following = await client.files.list(purpose="batch", limit=2, order="asc", after=page.data[-1].id)
    assert page.data[-1].id not in [x.id for x in following.data]
    for i in ids:
        await client.files.delete(i)


async def test_another_tenants_file_is_not_found(client, other):
    f = await client.files.create(file=("비밀.jsonl", JSONL), purpose="batch")
    for call in (other.files.retrieve(f.id), other.files.content(f.id), other.files.delete(f.id)):
        with pytest.raises(openai.NotFoundError) as e:
            await call
        assert e.value.body["code"] == "file_not_found"
    assert f.id not in [x.id async for x in other.files.list()]
    assert (await client.files.retrieve(f.id)).id == f.id  # still there for its owner
    await client.files.delete(f.id)


async def test_bad_purpose_and_empty_file_are_400(client):
    with pytest.raises(openai.BadRequestError) as e:
        await client.files.create(file=("a.jsonl", JSONL), purpose="fine-tune")
    assert e.value.body["param"] == "purpose"
    with pytest.raises(openai.BadRequestError) as e:
        await client.files.create(file=("a.jsonl", b""), purpose="batch")
    assert e.value.body["code"] == "empty_file"


async def test_oversized_upload_is_413(client, batch_services, monkeypatch):
    monkeypatch.setattr(batch_services.files, "max_bytes", 100)
    with pytest.raises(openai.APIStatusError) as e:
        await client.files.create(file=("큰파일.jsonl", JSONL * 2), purpose="batch")
    assert e.value.status_code == 413 and e.value.body["code"] == "file_too_large"


def _tenant(services) -> str:
    return services.keys.authenticate(services.admin_secret).tenant_id
