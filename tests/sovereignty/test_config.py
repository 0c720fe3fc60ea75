"""Jurisdiction tables in jaju.toml: valid shapes resolve; every mistake names its line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from jaju.errors import ConfigError
from jaju.settings import load_settings
from jaju.sovereignty.config import kek_providers, load_jurisdictions
from jaju.sovereignty.kek import LocalKekProvider

GOOD = """
jurisdiction = "KR"

[jurisdictions.KR]
store = { data_dir = "{tmp}/kr" }

[[jurisdictions.KR.backends]]
name = "kr-vllm"
url = "http://127.0.0.1:8001/v1/"
api_key_env = "KR_VLLM_KEY"
timeout = 30
responses = "native"
models = { "qwen-kr" = "Qwen/Qwen2.5-0.5B-Instruct" }

[jurisdictions.EU]
store = { database_url = "postgresql+psycopg://jaju@db.eu.internal/jaju" }
kek = { source = "local", dir = "{tmp}/eu-keys" }

[[jurisdictions.EU.backends]]
name = "eu-llama"
url = "https://llm.eu.internal"
models = ["qwen-eu", "e5"]

[[jurisdictions.EU.backends]]
name = "eu-tgi"
url = "http://10.1.0.7:8080"
jurisdiction = "EU"
[jurisdictions.EU.backends.models]
"llama-3-70b" = { remote = "meta-llama/Llama-3-70B", license = "Llama 3", sha256 = "{sha}", used_by = ["EU", "KR"] }
"""


def settings_from(tmp_path: Path, text: str):
    path = tmp_path / "jaju.toml"
    path.write_text(text.replace("{tmp}", str(tmp_path)).replace("{sha}", "a" * 64), encoding="utf-8")
    return load_settings(path, data_dir=str(tmp_path / "data")), path


def test_a_good_configuration_resolves(tmp_path: Path):
    settings, path = settings_from(tmp_path, GOOD)
    j = load_jurisdictions(settings, path)
    assert j.home == "KR" and j.codes == {"KR", "EU"}
    assert j["KR"].embedded and not j["EU"].embedded
    assert j["KR"].database_url == f"sqlite:///{tmp_path / 'kr' / 'jaju.db'}"
    assert j["EU"].database_url.startswith("postgresql+psycopg://")
    kr = j["KR"].backends[0]
    assert kr.url == "http://127.0.0.1:8001/v1" and kr.models["qwen-kr"].remote == "Qwen/Qwen2.5-0.5B-Instruct"
    assert [b.name for b in j["EU"].backends] == ["eu-llama", "eu-tgi"]
    assert kr.responses == "native" and j["EU"].backends[0].responses == "translate"  # /v1/responses: the default
    assert j["EU"].backends[0].models["e5"].remote == "e5"
    assert j["EU"].backends[1].models["llama-3-70b"].used_by == ["EU", "KR"]
    assert j.declared_hosts() == {("127.0.0.1", 8001), ("llm.eu.internal", 443), ("10.1.0.7", 8080)}
    providers = kek_providers(j)
    assert isinstance(providers["EU"], LocalKekProvider) and providers["EU"].dir == tmp_path / "eu-keys" / "kek" / "EU"


def test_no_jurisdictions_means_the_home_one_only(tmp_path: Path):
    settings = load_settings(None, data_dir=str(tmp_path), jurisdiction="eu")
    j = load_jurisdictions(settings)
    assert j.codes == {"EU"} and j["EU"].embedded and j["EU"].backends == ()
    assert j["EU"].database_url == settings.effective_database_url


BAD = [
    # (replace this, with this, expected message fragments)
    ('[jurisdictions.EU]\nstore = { database_url = "postgresql+psycopg://jaju@db.eu.internal/jaju" }',
     "[jurisdictions.EU]", ["[jurisdictions.EU] store", "has no store"]),
    ('jurisdiction = "EU"\n', 'jurisdiction = "EU"\n', ["names 'EU' but is declared under [jurisdictions.KR]"]),
    ('url = "https://llm.eu.internal"', 'url = "llm.eu.internal"', ["#1", "url: must be http(s)://host"]),
    ('name = "eu-tgi"', 'name = "kr-vllm"', ["already used in [jurisdictions.KR]"]),
    ('used_by = ["EU", "KR"]', 'used_by = ["EU", "XX"]', ["unknown jurisdiction(s) XX"]),
    ('kek = { source = "local"', 'kek = { source = "vault"', ["unknown KEK source 'vault'"]),
    ('timeout = 30', 'timeuot = 30', ["timeuot: is not a setting jaju knows"]),
    ('responses = "native"', 'responses = "yes"', ["responses: Input should be 'native', 'translate' or 'auto'"]),
    ('name = "eu-llama"\n', '', ["name: is required"]),
    ('[jurisdictions.KR]\n', '[jurisdictions.KOREA]\n', ["'KOREA' is not a jurisdiction code"]),
]


@pytest.mark.parametrize("old,new,fragments", BAD)
def test_misconfigurations_name_the_line(tmp_path: Path, old: str, new: str, fragments: list[str]):
    text = GOOD
    if old.startswith('jurisdiction = "EU"'):
        text = GOOD.replace('name = "kr-vllm"\n', 'name = "kr-vllm"\n' + new)
    else:
        assert old in text
        text = text.replace(old, new, 1)
    settings, path = settings_from(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_jurisdictions(settings, path)
    message = str(e.value)
    assert str(path) in message and " line " in message
    for fragment in fragments:
        assert fragment in message


def test_line_number_points_at_the_key(tmp_path: Path):
    settings, path = settings_from(tmp_path, GOOD.replace('timeout = 30', 'timeout = -1'))
    with pytest.raises(ConfigError) as e:
        load_jurisdictions(settings, path)
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if s.startswith("timeout = -1"))
    assert f"line {line}:" in str(e.value)
