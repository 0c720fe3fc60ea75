"""Per-tenant moderation policy from packs: strictest wins, quoted abuse never blocks, 422 names categories only."""

from __future__ import annotations

import pytest

from jaju.compliance.loader import PackError, builtin_path, load_pack, parse_pack
from jaju.compliance.policy import merge
from jaju.compliance.registry import BUILTIN_PACKS
from jaju.moderation.service import ModerationService, blocked_error


def _pack(pid: str, body: str):
    head = (f"id: {pid}\ntitle: Test {pid}\nlaw: 운영 정책 {pid}\njurisdiction: KR\nversion: '2026-01'\n"
            "source: https://example.test/policy\nbinding: false\n")
    return parse_pack(head + body, f"{pid}.yaml")


YOUTH = _pack("youth_service", """\
moderation:
  profanity_insult: {input: block, output: block, article: "이용약관 제12조"}
  sexual: {input: block, output: block, article: "이용약관 제13조"}
  violence_threat: {input: flag, output: block, article: "이용약관 제14조"}
""")
LAX = _pack("community", """\
moderation:
  profanity_insult: {input: allow, output: flag, article: "커뮤니티 규칙 3"}
  violence_threat: {input: block, output: allow, article: "커뮤니티 규칙 4"}
  self_harm: {input: allow, output: allow, article: "커뮤니티 규칙 5"}
""")


def test_builtin_packs_still_load_and_ground_their_moderation_rules() -> None:
    packs = {pid: load_pack(builtin_path(f)) for pid, f in BUILTIN_PACKS.items()}
    assert packs["pipa_kr"].moderation["pii_exposure"].output == "flag"
    assert packs["pipa_kr"].moderation["pii_exposure"].article == "Art. 59(3)"
    assert packs["gdpr_eu"].moderation["pii_exposure"].input == "allow"
    # Every existing rule is still there.
    assert packs["pipa_kr"].pii["KR_RRN"].model_input.value == "pseudonymize"


def test_merge_keeps_the_strictest_action_per_stage() -> None:
    policy = merge([LAX, YOUTH], "KR")
    assert policy.moderation_action("profanity_insult", "input") == "block"   # block beats allow
    assert policy.moderation_action("profanity_insult", "output") == "block"  # block beats flag
    assert policy.moderation_action("violence_threat", "input") == "block"    # block beats flag
    assert policy.moderation_action("violence_threat", "output") == "block"   # block beats allow
    assert policy.moderation_action("self_harm", "input") == "allow"          # only LAX rules on it
    assert policy.moderation_action("illegal", "input") == "flag"             # no pack: the default
    sources = policy.moderation["violence_threat"]["input"].sources
    assert [s.pack for s in sources] == ["community"] and not sources[0].binding
    rows = {name: value for name, value, _ in policy.explain()}
    assert rows["moderation.profanity_insult.input"] == "block"


def test_merge_order_does_not_matter() -> None:
    a, b = merge([LAX, YOUTH], "KR"), merge([YOUTH, LAX], "KR")
    for cat in ("profanity_insult", "violence_threat", "self_harm", "sexual"):
        for stage in ("input", "output"):
            assert a.moderation_action(cat, stage) == b.moderation_action(cat, stage)


def test_a_pack_with_an_unknown_action_or_category_fails_with_its_line() -> None:
    with pytest.raises(PackError, match=r"bad\.yaml:9: moderation\.profanity_insult\.input"):
        _pack("bad", "moderation:\n  profanity_insult: {input: delete, output: flag, article: \"X\"}\n")
    with pytest.raises(PackError, match=r"moderation\.swearing"):
        _pack("bad", "moderation:\n  swearing: {input: flag, output: flag, article: \"X\"}\n")


def test_policy_action_per_stage(moderation: ModerationService) -> None:
    policy = merge([LAX, YOUTH], "KR")
    threat = moderation.check_one("죽여버릴 거야 진짜")
    assert moderation.policy_action(policy, "input", threat) == "block"
    lax = merge([LAX], "KR")
    assert moderation.policy_action(lax, "output", threat) == "allow"
    assert moderation.policy_action(lax, "input", moderation.check_one("회의는 세 시입니다")) == "allow"
    assert moderation.policy_action(None, "input", threat) == "flag"  # no packs: report, never block


def test_quoted_abuse_is_flagged_but_never_blocked(moderation: ModerationService) -> None:
    policy = merge([YOUTH], "KR")
    report = moderation.check_one("그가 나에게 '씨발'이라고 했다고 신고합니다")
    assert moderation.policy_action(policy, "input", report) == "flag"
    said = moderation.check_one("씨발 이거 왜 또 안 돼")
    assert moderation.policy_action(policy, "input", said) == "block"


def test_blocking_raises_422_naming_categories_never_words(moderation: ModerationService) -> None:
    policy = merge([YOUTH], "KR")
    with pytest.raises(Exception) as info:
        moderation.enforce(policy, "input", ["안녕하세요", "개새끼야 섹스하자"])
    err = info.value
    assert err.status == 422 and err.code == "content_blocked"
    assert "욕설/모욕 (profanity_insult)" in err.message and "성적 표현 (sexual)" in err.message
    assert "개새끼" not in err.message and "섹스" not in err.message
    assert err.body()["error"]["type"] == "invalid_request_error"


def test_enforce_returns_the_action_when_nothing_blocks(moderation: ModerationService) -> None:
    action, results = moderation.enforce(merge([YOUTH], "KR"), "input", "죽여버릴 거야 진짜")
    assert action == "flag" and results[0].detected == ("violence_threat",)


def test_blocked_error_for_output_has_no_param() -> None:
    err = blocked_error("output", ["violence_threat"])
    assert err.status == 422 and err.param is None and "폭력·위협 (violence_threat)" in err.message
