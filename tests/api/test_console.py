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


MARKDOWN = """## 요약
**서울**은 *수도*이고 `print("안녕")` 한 줄이면 됩니다.
<img src=x onerror=alert(1)>

1. 서울
2. 부산
   - 해운대

- 김치
- 비빔밥

| 도시 | 인구 |
|:---|---:|
| 서울 | 940만 |

```python
print("<script>alert(1)</script>")
```
[공식 누리집](https://www.korea.kr) [위험한 링크](javascript:alert(1))
"""


def _connected(pg, live) -> None:
    if pg.locator("#login-status.ok").count() == 0:
        pg.fill("#key", live.admin_key)
        pg.click("#connect")
        pg.wait_for_selector("#login-status.ok")
    pg.click("button[data-tab=chat]")


def test_markdown_renders_as_elements_and_html_stays_text(page, live):
    pg, errors, _ = page
    # the console's own renderer, on a fixed string, in the page the console runs in
    found = pg.evaluate("""(md) => {
        const box = document.createElement("div");
        box.appendChild(jajuMarkdown.render(md));
        document.body.appendChild(box);
        const q = (s) => [...box.querySelectorAll(s)];
        const out = { strong: q("strong").map((e) => e.textContent), em: q("em").map((e) => e.textContent),
          h2: q("h2").map((e) => e.textContent), ol: q("ol > li").length, nestedUl: q("ol li ul li").length,
          ul: q(":scope > ul > li").map((e) => e.textContent), th: q("table thead th").map((e) => e.textContent),
          td: q("table tbody td").map((e) => e.textContent), code: q("pre > code").map((e) => e.textContent),
          inlineCode: q("p code").map((e) => e.textContent), img: q("img").length, script: q("script").length,
          links: q("a").map((e) => [e.textContent, e.href, e.rel, e.target]), text: box.innerText };
        box.remove();
        return out;
    }""", MARKDOWN)
    assert found["h2"] == ["요약"] and found["strong"] == ["서울"] and found["em"] == ["수도"]
    assert found["inlineCode"] == ['print("안녕")']
    assert found["ol"] == 2 and found["nestedUl"] == 1 and found["ul"] == ["김치", "비빔밥"]
    assert found["th"] == ["도시", "인구"] and found["td"] == ["서울", "940만"]
    assert found["code"] == ['print("<script>alert(1)</script>")']
    # HTML in a reply is shown, never built: no image, no script, and the tag is there as text
    assert found["img"] == 0 and found["script"] == 0
    assert "<img src=x onerror=alert(1)>" in found["text"]
    assert "**" not in found["text"] and "|---" not in found["text"]
    assert found["links"] == [["공식 누리집", "https://www.korea.kr/", "noopener noreferrer nofollow", "_blank"]]
    assert "위험한 링크" in found["text"]  # a javascript: link keeps its words and loses its target
    assert errors == []


def test_playground_sends_its_settings_and_renders_the_reply(page, live):
    import httpx

    pg, errors, shots = page
    _connected(pg, live)
    schema = httpx.get(live.base_url + "/openapi.json", headers={"Authorization": f"Bearer {live.admin_key}"}).json()
    responses = "/v1/responses" in schema["paths"]  # the playground uses the Responses API where it exists
    path = "/v1/responses" if responses else "/v1/chat/completions"
    pg.fill("#temperature", "0")
    pg.fill("#max-tokens", "48")
    pg.select_option("#speech-level", "polite")
    assert "해요체" in pg.locator("#speech-level option:checked").inner_text()  # labelled in either language
    pg.fill("#prompt", "한국의 큰 도시 세 곳을 번호 목록으로 적어 주세요.")
    with pg.expect_request(lambda r: r.method == "POST" and r.url.endswith(path)) as sent:
        pg.click("#send")
    body = sent.value.post_data_json
    assert body["temperature"] == 0 and body["stream"] is True
    assert body[("max_output_tokens" if responses else "max_tokens")] == 48
    assert body["jaju"]["speech_level"] == "polite"
    reply = pg.locator(".msg.assistant").last
    reply.locator(".meta").wait_for(timeout=180_000)
    assert reply.get_attribute("data-api") == ("responses" if responses else "chat")
    rendered = reply.locator(".md")
    assert re.search(r"[가-힣]", rendered.inner_text())
    assert rendered.locator("p, ol, ul, pre, table, h1, h2, h3").count() >= 1  # built as elements, not one text blob
    assert "**" not in rendered.inner_text()
    pg.screenshot(path=str(shots / "playground.png"), full_page=True)
    assert errors == []
