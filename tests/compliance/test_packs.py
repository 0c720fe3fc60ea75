"""Every built-in pack loads; a broken pack fails with file, line and reason."""

from pathlib import Path

import pytest

from jaju.compliance.entities import ENTITIES, LANGUAGES, SURFACES
from jaju.compliance.loader import PackError, builtin_path, load_pack, parse_pack
from jaju.compliance.registry import BUILTIN_PACKS, DEFAULT_PACKS
from jaju.compliance.service import PolicyError, PolicyService
from jaju.compliance.settings import compliance_settings
from jaju.errors import ConfigError


@pytest.mark.parametrize("pack_id", sorted(BUILTIN_PACKS))
def test_builtin_pack_loads_and_cites_articles(pack_id):
    pack = load_pack(builtin_path(BUILTIN_PACKS[pack_id]))
    assert pack.id == pack_id
    cited = [r.article for r in pack.pii.values()] + [r.article for r in pack.rights]
    cited += [d.article for d in pack.labelling.disclosures] + [d.article for d in pack.high_impact]
    assert cited, "a pack that says nothing is useless"
    assert all("Art" in a or "Principles" in a for a in cited)
    for d in pack.labelling.disclosures:
        assert set(d.text) == set(LANGUAGES)


@pytest.mark.parametrize("pack_id", ["pipa_kr", "gdpr_eu", "pdpl_sa"])
def test_privacy_packs_cover_every_entity(pack_id):
    pack = load_pack(builtin_path(BUILTIN_PACKS[pack_id]))
    for entity in ENTITIES:
        rule = pack.pii_rule(entity)
        assert rule is not None, entity
        assert all(rule.article_for(s) for s in SURFACES)


def test_default_packs_exist():
    for ids in DEFAULT_PACKS.values():
        assert set(ids) <= set(BUILTIN_PACKS)


GOOD = """\
id: house_rules
title: House rules
law: 사내 개인정보 처리 지침
jurisdiction: KR
version: "2026-01"
source: https://intranet.example/rules
pii:
  EMAIL: {model_input: redact, storage: redact, logs: redact, article: "§ 3(1)"}
"""


def test_operator_pack_parses():
    pack = parse_pack(GOOD, "house.yaml")
    assert pack.pii["EMAIL"].model_input.value == "redact"


BROKEN = [
    # (replace this, with this, line expected, words in the reason)
    ("  EMAIL: {", "  E_MAIL: {", 8, "pii.E_MAIL"),
    ("model_input: redact", "model_input: obliterate", 8, "model_input"),
    (', article: "§ 3(1)"', "", 8, "article"),
    ("jurisdiction: KR", "jurisdiction: korea", 4, "jurisdiction"),
    ("version: \"2026-01\"", "version: \"2026-01\"\nversion: again", 6, "appears twice"),
    ("pii:\n", "pii:\n  - [unclosed\n", 9, "not valid YAML"),
    ("title: House rules\n", "title: House rules\ncolour: blue\n", 3, "colour"),
]


@pytest.mark.parametrize("old,new,line,reason", BROKEN)
def test_broken_pack_names_file_line_and_reason(old, new, line, reason):
    text = GOOD.replace(old, new)
    assert text != GOOD
    with pytest.raises(PackError) as e:
        parse_pack(text, "house.yaml")
    msg = str(e.value)
    assert f"house.yaml:{line}:" in msg, msg
    assert reason in msg, msg


def test_disclosure_missing_arabic_is_refused():
    text = GOOD + """\
labelling:
  disclosures:
    - id: notice
      when: before_use
      article: "§ 5"
      text: {ko: "인공지능이 답합니다.", en: "An AI answers you."}
"""
    with pytest.raises(PackError, match=r"house\.yaml:11: labelling\.disclosures\.0.*ar"):
        parse_pack(text, "house.yaml")


def test_broken_operator_pack_stops_start_up(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("redact, storage", "shred, storage"), encoding="utf-8")
    with pytest.raises(PackError, match=rf"{bad}:8: pii.EMAIL.model_input"):
        PolicyService.from_settings(compliance_settings({"extra_packs": [str(bad)]}))


def test_operator_pack_is_registered_and_can_apply_to_everyone(tmp_path: Path):
    good = tmp_path / "house.yaml"
    good.write_text(GOOD, encoding="utf-8")
    service = PolicyService.from_settings(compliance_settings({"extra_packs": [str(good)], "always": ["house_rules"]}))
    policy = service.resolve("KR")
    assert policy.packs == ("pipa_kr", "ai_basic_act_kr", "house_rules")
    assert policy.privacy_actions()["EMAIL"]["model_input"] == "redact"
    assert policy.pii["EMAIL"]["model_input"].sources[0].article == "§ 3(1)"


def test_operator_pack_cannot_take_a_builtin_id(tmp_path: Path):
    clash = tmp_path / "clash.yaml"
    clash.write_text(GOOD.replace("id: house_rules", "id: pipa_kr"), encoding="utf-8")
    with pytest.raises(PackError, match="already taken"):
        PolicyService.from_settings(compliance_settings({"extra_packs": [str(clash)]}))


def test_unknown_settings_key_and_pack_fail_clearly():
    with pytest.raises(ConfigError, match="compliance.extra_pack"):
        compliance_settings({"extra_pack": ["x.yaml"]})
    with pytest.raises(PolicyError, match="Unknown policy pack 'hipaa_us'"):
        PolicyService.from_settings(compliance_settings({"always": ["hipaa_us"]}))
