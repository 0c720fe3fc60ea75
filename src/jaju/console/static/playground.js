// The chat playground: streams a reply through the Responses API where the server offers it (chat
// completions otherwise), with temperature, max tokens and the speech level, and renders Markdown safely.
"use strict";

// Whether this server offers /v1/responses, asked once from its schema (any valid key may read it).
async function responsesOffered() {
  if (state.responsesApi === undefined) {
    try {
      const schema = await (await api("/openapi.json")).json();
      state.responsesApi = Boolean(schema.paths && schema.paths["/v1/responses"] && schema.paths["/v1/responses"].post);
    } catch (_) {
      state.responsesApi = false;  // no schema for this key: chat completions work on every jaju
    }
  }
  return state.responsesApi;
}

function settings() {
  const temperature = parseFloat($("#temperature").value);
  const maxTokens = parseInt($("#max-tokens").value, 10);
  return { temperature: Number.isFinite(temperature) ? Math.min(Math.max(temperature, 0), 2) : 0.7,
           maxTokens: Number.isFinite(maxTokens) && maxTokens > 0 ? maxTokens : 256,
           speechLevel: $("#speech-level").value };
}

function jajuOptions(s) {
  const jaju = {};
  if ($("#chat-kb").value) jaju.knowledge_bases = [$("#chat-kb").value];
  if (s.speechLevel) jaju.speech_level = s.speechLevel;
  return Object.keys(jaju).length ? jaju : undefined;
}

function chatRequest(s) {
  return { path: "/v1/chat/completions",
           body: { model: $("#model").value, messages: state.history, stream: true, store: $("#store").checked,
                   temperature: s.temperature, max_tokens: s.maxTokens, jaju: jajuOptions(s) } };
}

function responsesRequest(s) {
  return { path: "/v1/responses",
           body: { model: $("#model").value, input: state.history, stream: true, store: $("#store").checked,
                   temperature: s.temperature, max_output_tokens: s.maxTokens, jaju: jajuOptions(s) } };
}

// Server-sent events as {event, data} objects; `data:` lines of one event are joined.
async function* serverEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let event = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

// Each reader yields {text} deltas and finally {label}; a server error becomes a thrown Error.
async function* chatDeltas(response) {
  for await (const { data } of serverEvents(response)) {
    if (!data.startsWith("{")) continue;  // [DONE]
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message);
    const delta = chunk.choices && chunk.choices[0] ? chunk.choices[0].delta : {};
    if (delta && delta.content) yield { text: delta.content };
    if (chunk.jaju) yield { label: chunk.jaju };
  }
}

async function* responsesDeltas(response) {
  for await (const { data } of serverEvents(response)) {
    const ev = JSON.parse(data);
    if (ev.type === "response.output_text.delta") yield { text: ev.delta };
    else if (ev.type === "error") throw new Error(ev.message);
    else if (ev.type === "response.failed") throw new Error((ev.response.error || {}).message || ev.type);
    else if (ev.type === "response.completed" || ev.type === "response.incomplete") {
      if (ev.response.jaju) yield { label: ev.response.jaju };
    }
  }
}

function showLabel(out, label) {
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = t("chat.meta", { model: label.model, jurisdiction: label.jurisdiction,
                                       sha: (label.weights_sha256 || "").slice(0, 12) });
  out.appendChild(meta);
  if (label.citations && label.citations.length) {
    const cites = document.createElement("span");
    cites.className = "meta citations";
    cites.textContent = `${t("chat.sources")}: ` + label.citations.map((c) =>
      `[${c.index}] ${c.title || c.filename}${c.page != null ? " p." + c.page : c.section ? " · " + c.section : ""}`).join(", ");
    out.appendChild(cites);
  }
}

async function ask(event) {
  event.preventDefault();
  const text = $("#prompt").value.trim();
  if (!text) return;
  $("#prompt").value = "";
  state.history.push({ role: "user", content: text });
  addMessage("user", text);
  const out = addMessage("assistant", "");
  const body = document.createElement("div");
  body.className = "md";
  out.appendChild(body);
  $("#send").disabled = true;
  let answer = "";
  let label = null;
  try {
    const s = settings();
    const useResponses = await responsesOffered();
    const { path, body: request } = useResponses ? responsesRequest(s) : chatRequest(s);
    const r = await api(path, { method: "POST", body: JSON.stringify(request) });
    for await (const d of (useResponses ? responsesDeltas : chatDeltas)(r)) {
      if (d.text) { answer += d.text; body.replaceChildren(jajuMarkdown.render(answer)); }
      if (d.label) label = d.label;
    }
    state.history.push({ role: "assistant", content: answer });
    out.dataset.api = useResponses ? "responses" : "chat";
    if (label) showLabel(out, label);
  } catch (e) {
    out.textContent = `⚠ ${e.message}`;
    out.classList.add("bad");
  } finally {
    $("#send").disabled = false;
    $("#log").scrollTop = $("#log").scrollHeight;
  }
}

$("#ask").addEventListener("submit", ask);
