// jaju console: a thin client of the same public API partners use (no private endpoints).
"use strict";

const I18N = {
  ko: {
    "tab.chat": "대화", "tab.models": "모델", "tab.kb": "지식", "tab.admin": "관리", "lang": "English",
    "chat.kb": "근거 지식", "chat.noKb": "없음", "chat.sources": "출처",
    "kb.name": "지식 베이스 이름", "kb.upload": "올리기", "kb.file": "파일", "kb.title": "제목", "kb.chunks": "조각",
    "kb.query": "검색어 (예: 대통령의 임기)", "kb.search": "검색",
    "kb.uploaded": "{ok}개 저장, {failed}개 실패 {errors}",
    "login.label": "API 키", "login.connect": "연결", "login.ok": "연결됨 · 관할 {who}",
    "login.bad": "키를 확인해 주세요: {error}",
    "chat.model": "모델", "chat.store": "대화 보관 (store)", "chat.placeholder": "질문을 입력하세요",
    "chat.send": "보내기", "chat.meta": "AI 생성 · {model} · 관할 {jurisdiction} · sha256 {sha}",
    "chat.temperature": "온도", "chat.maxTokens": "최대 토큰", "chat.speech": "말투",
    "speech.default": "기본", "speech.formal": "하십시오체 (격식)", "speech.polite": "해요체 (공손)",
    "speech.casual": "반말 (편하게)",
    "models.id": "모델", "models.kind": "종류", "models.jurisdiction": "관할", "models.license": "라이선스",
    "admin.tenants": "테넌트", "admin.tenantName": "기관 이름", "admin.create": "만들기", "admin.name": "이름",
    "admin.status": "상태", "admin.keys": "API 키", "admin.issue": "발급", "admin.tenant": "테넌트",
    "admin.scopes": "범위", "admin.revoked": "폐기", "admin.revoke": "폐기하기", "admin.usage": "사용량",
    "admin.day": "날짜", "admin.requests": "요청", "admin.tokens": "토큰", "admin.audit": "감사 기록",
    "admin.verify": "무결성 검증", "admin.secret": "새 키 (지금 한 번만 보입니다): {secret}",
    "audit.ok": "정상: 이벤트 {events}개, 서명된 체크포인트 {checkpoints}개",
    "audit.bad": "변조 발견: {problem}",
  },
  en: {
    "tab.chat": "Chat", "tab.models": "Models", "tab.kb": "Knowledge", "tab.admin": "Admin", "lang": "한국어",
    "chat.kb": "Ground in", "chat.noKb": "none", "chat.sources": "Sources",
    "kb.name": "Knowledge base name", "kb.upload": "Upload", "kb.file": "File", "kb.title": "Title",
    "kb.chunks": "Chunks", "kb.query": "Search (e.g. 대통령의 임기)", "kb.search": "Search",
    "kb.uploaded": "{ok} stored, {failed} failed {errors}",
    "login.label": "API key", "login.connect": "Connect", "login.ok": "Connected · jurisdiction {who}",
    "login.bad": "Check the key: {error}",
    "chat.model": "Model", "chat.store": "Keep conversation (store)", "chat.placeholder": "Ask something",
    "chat.send": "Send", "chat.meta": "AI-generated · {model} · jurisdiction {jurisdiction} · sha256 {sha}",
    "chat.temperature": "Temperature", "chat.maxTokens": "Max tokens", "chat.speech": "Speech level",
    "speech.default": "Default", "speech.formal": "Formal (하십시오체)", "speech.polite": "Polite (해요체)",
    "speech.casual": "Casual (반말)",
    "models.id": "Model", "models.kind": "Kind", "models.jurisdiction": "Jurisdiction", "models.license": "Licence",
    "admin.tenants": "Tenants", "admin.tenantName": "Organisation name", "admin.create": "Create", "admin.name": "Name",
    "admin.status": "Status", "admin.keys": "API keys", "admin.issue": "Issue", "admin.tenant": "Tenant",
    "admin.scopes": "Scopes", "admin.revoked": "Revoked", "admin.revoke": "Revoke", "admin.usage": "Usage",
    "admin.day": "Day", "admin.requests": "Requests", "admin.tokens": "Tokens", "admin.audit": "Audit trail",
    "admin.verify": "Verify integrity", "admin.secret": "New key (shown only now): {secret}",
    "audit.ok": "Intact: {events} events, {checkpoints} signed checkpoints",
    "audit.bad": "Tampering found: {problem}",
  },
};

const state = { lang: localStorage.getItem("jaju.lang") || "ko", key: sessionStorage.getItem("jaju.key") || "",
                models: [], history: [], status: {} };
const $ = (sel) => document.querySelector(sel);

function t(id, vars = {}) {
  return (I18N[state.lang][id] || id).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : ""));
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $("#lang").textContent = t("lang");
  for (const [sel, [id, vars]] of Object.entries(state.status)) $(sel).textContent = t(id, vars);
  showNotice();
}

function say(sel, id, vars, ok) {
  state.status[sel] = [id, vars];  // remembered, so switching language re-renders it
  $(sel).textContent = t(id, vars);
  $(sel).className = ok ? "status ok" : "status bad";
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, ...(options.body ? { "Content-Type": "application/json" } : {}) };
  const r = await fetch(path, { ...options, headers });
  if (!r.ok) {
    let message = r.statusText;
    try { message = (await r.json()).error.message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return r;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function fill(tableSel, rows, render) {
  const body = $(`${tableSel} tbody`);
  body.replaceChildren();
  rows.forEach((item) => { const tr = document.createElement("tr"); render(tr, item); body.appendChild(tr); });
}

function showNotice() {
  const m = state.models.find((x) => x.id === $("#model").value);
  const notices = m && m.jaju && m.jaju.notices ? m.jaju.notices[state.lang] || m.jaju.notices.en || [] : [];
  $("#notice").textContent = notices.join(" ");
}

async function connect() {
  state.key = $("#key").value.trim();
  sessionStorage.setItem("jaju.key", state.key);
  try {
    const models = await (await api("/v1/models")).json();
    state.models = models.data;
    const chatModels = state.models.filter((m) => m.jaju && m.jaju.kind !== "embedding" && m.jaju.permitted);
    $("#model").replaceChildren(...chatModels.map((m) => new Option(`${m.id} (${m.jaju.jurisdiction})`, m.id)));
    fill("#model-table", state.models, (tr, m) => {
      cell(tr, m.id); cell(tr, m.jaju.kind); cell(tr, m.jaju.jurisdiction); cell(tr, m.jaju.license);
      cell(tr, m.jaju.sha256, "hash");
    });
    let who = "";
    try {
      const policy = await (await api("/v1/policy")).json();
      who = `${policy.jurisdiction} (${(policy.packs || []).join(", ")})`;
    } catch (_) { /* a key without the policy route still chats */ }
    say("#login-status", "login.ok", { who }, true);
    showNotice();
    await loadKbs();
    await loadAdmin();
  } catch (e) {
    say("#login-status", "login.bad", { error: e.message }, false);
  }
}

async function loadAdmin() {
  let tenants;
  try { tenants = (await (await api("/admin/tenants")).json()).data; } catch (_) { $("#admin-tab").hidden = true; return; }
  $("#admin-tab").hidden = false;
  fill("#tenant-table", tenants, (tr, x) => { cell(tr, x.id); cell(tr, x.name); cell(tr, x.jurisdiction); cell(tr, x.status); });
  $("#key-tenant").replaceChildren(...tenants.map((x) => new Option(x.name, x.id)));
  const keys = (await (await api("/admin/keys")).json()).data;
  fill("#key-table", keys, (tr, k) => {
    cell(tr, k.id); cell(tr, k.tenant_id); cell(tr, k.scopes.join(", ")); cell(tr, k.revoked_at || "");
    const td = cell(tr, "");
    if (!k.revoked_at) {
      const b = document.createElement("button");
      b.textContent = t("admin.revoke");
      b.onclick = async () => { await api(`/admin/keys/${k.id}`, { method: "DELETE" }); loadAdmin(); };
      td.appendChild(b);
    }
  });
  const usage = (await (await api("/admin/usage")).json()).data;
  fill("#usage-table", usage, (tr, u) => {
    cell(tr, u.day); cell(tr, u.tenant_id); cell(tr, u.model); cell(tr, u.requests);
    cell(tr, u.prompt_tokens + u.completion_tokens);
  });
}

async function loadKbs() {
  const kbs = (await (await api("/v1/knowledge-bases")).json()).data;
  const keep = $("#kb-select").value;
  $("#kb-select").replaceChildren(...kbs.map((k) => new Option(k.name, k.id)));
  if (keep) $("#kb-select").value = keep;
  const none = new Option(t("chat.noKb"), "");
  $("#chat-kb").replaceChildren(none, ...kbs.map((k) => new Option(k.name, k.id)));
  await loadDocs();
}

async function loadDocs() {
  const kb = $("#kb-select").value;
  if (!kb) { fill("#doc-table", [], () => {}); return; }
  const docs = (await (await api(`/v1/knowledge-bases/${kb}/documents`)).json()).data;
  fill("#doc-table", docs, (tr, d) => { cell(tr, d.filename); cell(tr, d.title); cell(tr, d.chunks); });
}

async function uploadDocs() {
  const kb = $("#kb-select").value;
  const files = $("#kb-files").files;
  if (!kb || !files.length) return;
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  // No Content-Type here: the browser sets the multipart boundary itself.
  const r = await fetch(`/v1/knowledge-bases/${kb}/documents`, { method: "POST", body: form,
                                                                  headers: { Authorization: `Bearer ${state.key}` } });
  const body = await r.json();
  if (!r.ok) { say("#kb-status", "login.bad", { error: body.error.message }, false); return; }
  const errors = body.data.filter((x) => x.error).map((x) => `${x.filename}: ${x.error.message || x.error}`).join("; ");
  say("#kb-status", "kb.uploaded", { ok: body.succeeded, failed: body.failed, errors }, body.failed === 0);
  $("#kb-files").value = "";
  await loadDocs();
}

async function searchKb(event) {
  event.preventDefault();
  const kb = $("#kb-select").value;
  const query = $("#kb-query").value.trim();
  if (!kb || !query) return;
  const hits = (await (await api(`/v1/knowledge-bases/${kb}/search`, { method: "POST",
    body: JSON.stringify({ query, top_k: 5 }) })).json()).data;
  $("#kb-hits").replaceChildren(...hits.map((h) => {
    const li = document.createElement("li");
    const where = h.page != null ? `p.${h.page}` : (h.section || "");
    li.textContent = `${h.title || h.filename}${where ? " · " + where : ""} — ${h.text.slice(0, 160)}`;
    return li;
  }));
}

function addMessage(role, text) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.textContent = text;
  $("#log").appendChild(div);
  $("#log").scrollTop = $("#log").scrollHeight;
  return div;
}

async function verifyAudit() {
  const r = await (await api("/admin/audit/verify", { method: "POST" })).json();
  say("#audit-status", r.ok ? "audit.ok" : "audit.bad", r, r.ok);
}

document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== b.dataset.tab; });
  if (b.dataset.tab === "admin") loadAdmin();  // fresh usage and keys each time the tab opens
}));
$("#lang").addEventListener("click", () => {
  state.lang = state.lang === "ko" ? "en" : "ko";
  localStorage.setItem("jaju.lang", state.lang);
  applyLanguage();
});
$("#connect").addEventListener("click", connect);
$("#model").addEventListener("change", showNotice);
$("#verify").addEventListener("click", verifyAudit);
$("#kb-select").addEventListener("change", loadDocs);
$("#kb-upload").addEventListener("click", uploadDocs);
$("#kb-search").addEventListener("submit", searchKb);
$("#new-kb").addEventListener("submit", async (e) => {
  e.preventDefault();
  const kb = await (await api("/v1/knowledge-bases", { method: "POST", body: JSON.stringify({ name: $("#kb-name").value }) })).json();
  $("#kb-name").value = "";
  await loadKbs();
  $("#kb-select").value = kb.id;
  await loadDocs();
});
$("#new-tenant").addEventListener("submit", async (e) => {
  e.preventDefault();
  await api("/admin/tenants", { method: "POST", body: JSON.stringify({ name: $("#tenant-name").value, jurisdiction: $("#tenant-j").value }) });
  $("#tenant-name").value = "";
  loadAdmin();
});
$("#new-key").addEventListener("submit", async (e) => {
  e.preventDefault();
  const k = await (await api("/admin/keys", { method: "POST", body: JSON.stringify({ tenant: $("#key-tenant").value }) })).json();
  $("#new-secret").textContent = t("admin.secret", { secret: k.secret });
  loadAdmin();
});
$("#key").value = state.key;
applyLanguage();
if (state.key) connect();
