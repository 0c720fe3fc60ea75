"""The web console in a real browser (headless Chromium) against a live `jaju serve`, in Korean and English."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page(live, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        context = browser.new_context(locale="ko-KR")
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(live.base_url + "/console")
        yield pg, errors, tmp_path_factory.mktemp("shots")
        browser.close()


def test_console_chats_in_korean_and_manages_the_platform(page, live):
    pg, errors, shots = page
    assert pg.locator("label[for=key]").inner_text() == "API 키"
    pg.fill("#key", live.admin_key)
    pg.click("#connect")
    pg.wait_for_selector("#login-status.ok")
    assert "연결됨" in pg.inner_text("#login-status") and "KR" in pg.inner_text("#login-status")
    assert "qwen2.5-coder-0.5b-instruct" in pg.inner_text("#model")

    pg.fill("#prompt", "대한민국의 수도는 어디인가요?")
    pg.click("#send")
    answer = pg.locator(".msg.assistant .meta")
    answer.wait_for(timeout=120_000)  # the label arrives with the last chunk
    reply = pg.inner_text(".msg.assistant")
    # the console samples at the API's default temperature, so the words vary; the shape does not
    answer, meta = reply.rsplit("\n", 1)
    assert re.search(r"[가-힣]", answer) and "AI 생성" in meta and "관할 KR" in meta
    pg.screenshot(path=str(Path(shots) / "chat-ko.png"))

    pg.click("#lang")
    assert pg.inner_text("button[data-tab=chat]") == "Chat"
    assert pg.inner_text("#login-status").startswith("Connected")
    pg.click("#admin-tab")
    pg.wait_for_selector("#usage-table tbody tr")  # the chat above is metered
    assert "default" in pg.inner_text("#tenant-table")
    pg.click("#verify")
    pg.wait_for_selector("#audit-status.ok")
    assert pg.inner_text("#audit-status").startswith("Intact")
    assert pg.locator("#usage-table tbody tr").count() >= 1
    pg.screenshot(path=str(Path(shots) / "admin-en.png"), full_page=True)
    assert errors == []


def test_console_is_locked_down(live):
    import httpx

    r = httpx.get(live.base_url + "/console")
    assert r.status_code == 200 and "jaju" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert httpx.get(live.base_url + "/console/static/console.js").status_code == 200


def test_console_builds_and_searches_a_knowledge_base(page, tmp_path):
    pg, errors, shots = page
    doc = tmp_path / "청년주거조례.txt"
    doc.write_text("자주시 청년 주거 지원 조례\n\n제3조(월세 지원) 시장은 만 19세 이상 39세 이하의 무주택 청년에게 "
                   "매월 20만원의 월세를 최대 12개월 동안 지원할 수 있다.\n", encoding="utf-8")
    pg.click("button[data-tab=kb]")
    pg.fill("#kb-name", "자주시 조례")
    pg.click("#new-kb button[type=submit]")
    pg.wait_for_selector("#kb-select option", state="attached")
    pg.set_input_files("#kb-files", str(doc))
    pg.click("#kb-upload")
    pg.wait_for_selector("#doc-table tbody tr")
    assert "청년주거조례.txt" in pg.inner_text("#doc-table")
    assert pg.locator("#kb-status.ok").count() == 1
    pg.fill("#kb-query", "청년 월세는 얼마나 지원하나요")
    pg.click("#kb-search button[type=submit]")
    pg.wait_for_selector("#kb-hits li")
    assert "20만원" in pg.inner_text("#kb-hits")
    assert "자주시 조례" in pg.inner_text("#chat-kb")  # offered for grounding chat answers
    pg.screenshot(path=str(shots / "kb.png"), full_page=True)
    assert errors == []
