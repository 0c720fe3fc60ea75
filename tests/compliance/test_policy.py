"""Strictest-wins merging, and where every effective rule came from."""

import pytest

from jaju.compliance.entities import ENTITIES, SURFACES, Action
from jaju.compliance.loader import parse_pack
from jaju.compliance.policy import merge
from jaju.compliance.service import PolicyError


def _pack(pid: str, body: str):
    head = (f"id: {pid}\ntitle: Test {pid}\nlaw: 시험 법률 {pid}\njurisdiction: KR\nversion: '2026-01'\n"
            "source: https://example.test/law\n")
    return parse_pack(head + body, f"{pid}.yaml")


A = _pack("a", """\
pii:
  EMAIL: {model_input: mask, storage: hash, logs: redact, article: "A-1"}
  PERSON: {model_input: allow, storage: allow, logs: allow, article: "A-2"}
residency: {processing: [KR, EU, JP], storage: [KR, EU], article: "A-3",
            transfer_bases: [{basis: consent, article: "A-4"}, {basis: adequacy, article: "A-5"}]}
retention:
  content_max_days: {days: 90, article: "A-6"}
  logs_min_days: {days: 365, article: "A-7"}
labelling:
  disclosures:
    - {id: ai, when: before_use, article: "A-8", text: {ko: "인공지능입니다.", en: "An AI.", ar: "ذكاء اصطناعي."}}
""")
B = _pack("b", """\
pii:
  EMAIL: {model_input: pseudonymize, storage: hash, logs: mask, article: "B-1", articles: {logs: "B-1(2)"}}
  KR_RRN: {model_input: block, storage: block, logs: block, article: "B-2"}
residency: {processing: [KR, JP], storage: [KR, JP], article: "B-3",
            transfer_bases: [{basis: adequacy, article: "B-5"}, {basis: standard_contractual_clauses, article: "B-9"}]}
retention:
  content_max_days: {days: 30, article: "B-6"}
  logs_min_days: {days: 184, article: "B-7"}
  logs_max_days: {days: 400, article: "B-10"}
labelling:
  disclosures:
    - {id: label, when: every_response, article: "B-8", text: {ko: "생성된 결과입니다.", en: "Generated.", ar: "مولَّد آلياً."}}
  markings:
    - {id: wm, kinds: [watermark, header], article: "B-11"}
""")


def _src(rule):
    return [(s.pack, s.article) for s in rule.sources]


@pytest.mark.parametrize("entity,surface,action,sources", [
    ("EMAIL", "model_input", "pseudonymize", [("b", "B-1")]),   # pseudonymize beats mask
    ("EMAIL", "storage", "hash", [("a", "A-1"), ("b", "B-1")]),  # a tie keeps both sources
    ("EMAIL", "logs", "redact", [("a", "A-1")]),                 # redact beats mask
    ("PERSON", "logs", "allow", [("a", "A-2")]),                 # only one pack speaks
    ("KR_RRN", "model_input", "block", [("b", "B-2")]),
])
def test_stricter_pii_action_wins_and_keeps_its_article(entity, surface, action, sources):
    policy = merge([A, B], "KR")
    rule = policy.pii[entity][surface]
    assert rule.value.value == action
    assert _src(rule) == sources


def test_per_surface_article_override():
    assert _src(merge([B], "KR").pii["EMAIL"]["logs"]) == [("b", "B-1(2)")]


def test_order_of_packs_does_not_change_the_result():
    ab, ba = merge([A, B], "KR"), merge([B, A], "KR")
    assert ab.privacy_actions() == ba.privacy_actions()
    assert ab.processing.value == ba.processing.value


def test_residency_intersects_and_retention_takes_the_strict_side():
    policy = merge([A, B], "KR")
    assert policy.processing.value == {"KR", "JP"}
    assert policy.storage.value == {"KR"}
    assert set(policy.transfer_bases) == {"adequacy"}
    assert _src(policy.transfer_bases["adequacy"]) == [("a", "A-5"), ("b", "B-5")]
    assert (policy.content_max_days.value, _src(policy.content_max_days)) == (30, [("b", "B-6")])
    assert (policy.logs_min_days.value, _src(policy.logs_min_days)) == (365, [("a", "A-7")])
    assert policy.logs_max_days.value == 400
    assert policy.conflicts == ()


def test_labelling_duties_are_united():
    policy = merge([A, B], "KR")
    assert [d.value.id for d in policy.disclosures] == ["ai", "label"]
    assert policy.notices("ko") == ["인공지능입니다.", "생성된 결과입니다."]
    assert policy.notices("ar", when="every_response") == ["مولَّد آلياً."]
    assert policy.watermark_required
    assert not merge([A], "KR").watermark_required


def test_conflicting_packs_are_reported_not_hidden():
    c = _pack("c", """\
residency: {processing: [SA], storage: [SA], article: "C-1"}
retention:
  logs_min_days: {days: 500, article: "C-2"}
""")
    policy = merge([B, c], "KR")
    assert policy.processing.value == frozenset()
    assert any("residency.processing" in c for c in policy.conflicts)
    assert any("logs must be kept 500 days" in c for c in policy.conflicts)


def test_korean_tenant_gets_pipa_and_the_ai_basic_act(policies):
    policy = policies.resolve("kr")
    assert policy.packs == ("pipa_kr", "ai_basic_act_kr")
    actions = policy.privacy_actions()
    assert set(actions) == set(ENTITIES)
    assert all(set(v) == set(SURFACES) for v in actions.values())
    assert actions["KR_RRN"] == {"model_input": "pseudonymize", "storage": "redact", "logs": "redact"}
    assert policy.processing.value == {"KR"}
    assert policy.logs_min_days.value == 730
    assert "이 서비스는 생성형 인공지능을 기반으로 운영됩니다. 응답은 인공지능이 생성하며 사실과 다를 수 있습니다." \
        in policy.notices("ko", when="before_use")
    assert not any(d.value.id == "high_impact_prior_notice" for d in policy.disclosures)
    assert not policy.watermark_required


def test_eu_tenant_keeps_logs_six_months_and_watermarks(policies):
    policy = policies.resolve("EU")
    assert policy.logs_min_days.value == 184
    assert _src(policy.logs_min_days) == [("ai_act_eu", "Art. 19(1); Art. 26(6)")]
    assert policy.watermark_required
    assert policy.processing.value == {"EU", "KR", "JP", "UK"}


def test_korean_tenant_under_eu_law_too(policies):
    policy = policies.resolve("KR", ["pipa_kr", "ai_basic_act_kr", "gdpr_eu", "ai_act_eu"])
    assert policy.processing.value == {"KR"}
    assert policy.logs_min_days.value == 730
    assert set(policy.transfer_bases) == {"adequacy", "certification", "consent", "contract_necessity"}
    assert policy.rights["access"].value == 10  # PIPA's 10 days beat GDPR's month
    assert policy.pii["KR_CRN"]["logs"].value.value == "mask"


def test_korean_and_saudi_packs_leave_nowhere_to_process(policies):
    policy = policies.resolve("KR", ["pipa_kr", "pdpl_sa"])
    assert policy.processing.value == frozenset()
    assert policy.conflicts


def test_high_impact_adds_notice_and_duties(policies):
    policy = policies.resolve("KR", high_impact=True)
    assert any(d.value.id == "high_impact_prior_notice" for d in policy.disclosures)
    assert policy.full_event_logs
    assert {d.value.evidence for d in policy.duties} >= {"oversight_contacts", "risk_management_plan"}


def test_resolve_errors_and_cache(policies):
    with pytest.raises(PolicyError, match="No policy packs are set for jurisdiction 'US'"):
        policies.resolve("US")
    assert policies.resolve("US", ["gdpr_eu"]).packs == ("gdpr_eu",)
    with pytest.raises(PolicyError, match="Unknown policy pack 'ccpa_us'"):
        policies.resolve("US", ["ccpa_us"])
    assert policies.resolve("KR") is policies.resolve("KR")


def test_explain_lists_every_rule_with_pack_and_article(policies):
    rows = policies.resolve("SA").explain()
    names = [n for n, _, _ in rows]
    assert "pii.SA_NATIONAL_ID.model_input" in names
    assert "residency.processing" in names
    assert all(src and all(s.pack and s.article for s in src) for _, _, src in rows)
    d = policies.resolve("SA").to_dict()
    assert d["rules"][0]["sources"][0]["pack"] == "pdpl_sa"


def test_privacy_actions_floor_only_tightens(policies):
    policy = policies.resolve("KR")
    floor = {"PERSON": {"model_input": "pseudonymize", "storage": "pseudonymize", "logs": "mask", "output": "allow"},
             "KR_RRN": {"model_input": "mask"}}
    actions = policy.privacy_actions(floor)
    assert actions["PERSON"] == {"model_input": "pseudonymize", "storage": "pseudonymize", "logs": "redact"}
    assert actions["KR_RRN"]["model_input"] == "pseudonymize"  # the pack's stricter action stays
    assert policy.privacy_actions()["PERSON"]["model_input"] == "allow"


@pytest.mark.parametrize("jurisdiction", ["KR", "EU", "SA"])
def test_privacy_engine_accepts_the_actions(policies, jurisdiction):
    from dataclasses import asdict

    from jaju.privacy.policy import DEFAULT_RULES, PrivacyPolicy

    floor = {e: asdict(r) for e, r in DEFAULT_RULES.items()}
    policy = policies.resolve(jurisdiction)
    privacy = PrivacyPolicy.from_dict(policy.privacy_actions(floor))
    for entity, surfaces in policy.privacy_actions().items():
        for surface, action in surfaces.items():
            applied = privacy.action(entity, surface)
            applied = "pseudonymize" if applied == "surrogate" else applied  # a form of pseudonymisation
            assert Action(applied).rank >= Action(action).rank
