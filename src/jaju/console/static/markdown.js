// Markdown for model replies, built as DOM nodes: model text only ever reaches the page through
// textContent, so a reply that contains HTML shows it as text and never as markup.
"use strict";

const jajuMarkdown = (() => {
  const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
  const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
  const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
  const QUOTE = /^ {0,3}>\s?(.*)$/;
  const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
  const SAFE_URL = /^https?:\/\/[^\s]+$/i;

  function el(tag, children = [], cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const child of children) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  // Inline spans, earliest match first; the text between matches stays plain text.
  const INLINE = [
    { re: /\\([\\`*_{}[\]()#+\-.!|~<>])/, make: (m) => document.createTextNode(m[1]) },
    { re: /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/, make: (m) => el("code", [m[2].trim() || m[2]]) },
    { re: /!\[([^\]]*)\]\(((?:[^()\s]|\([^()\s]*\))*)(?:\s+"[^"]*")?\)/, make: (m) => document.createTextNode(m[1]) },
    { re: /\[([^\]]+)\]\(((?:[^()\s]|\([^()\s]*\))*)(?:\s+"[^"]*")?\)/, make: (m) => link(m[1], m[2]) },
    { re: /\*\*(?=\S)([\s\S]*?\S)\*\*/, make: (m) => el("strong", inline(m[1])) },
    { re: /(?<![\p{L}\p{N}])__(?=\S)([\s\S]*?\S)__(?![\p{L}\p{N}])/u, make: (m) => el("strong", inline(m[1])) },
    { re: /~~(?=\S)([\s\S]*?\S)~~/, make: (m) => el("del", inline(m[1])) },
    { re: /\*(?=[^\s*])([\s\S]*?[^\s*])\*/, make: (m) => el("em", inline(m[1])) },
    { re: /(?<![\p{L}\p{N}_])_(?=[^\s_])([\s\S]*?[^\s_])_(?![\p{L}\p{N}_])/u, make: (m) => el("em", inline(m[1])) },
  ];

  function link(text, url) {
    if (!SAFE_URL.test(url)) return document.createTextNode(text);  // javascript:, data:, relative: text only
    const a = el("a", inline(text));
    a.href = url;
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    return a;
  }

  function inline(text) {
    const out = [];
    let rest = text;
    while (rest) {
      let best = null;
      for (const rule of INLINE) {
        const m = rule.re.exec(rest);
        if (m && (best === null || m.index < best.m.index)) best = { m, rule };
      }
      if (!best) { out.push(document.createTextNode(rest)); break; }
      if (best.m.index > 0) out.push(document.createTextNode(rest.slice(0, best.m.index)));
      out.push(best.rule.make(best.m));
      rest = rest.slice(best.m.index + best.m[0].length);
    }
    return out;
  }

  function cells(line) {
    let s = line.trim();
    if (s.startsWith("|")) s = s.slice(1);
    if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
    return s.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
  }

  function table(lines, i) {
    const head = cells(lines[i]);
    const align = cells(lines[i + 1]).map((c) =>
      (c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : ""));
    const row = (values, tag) => el("tr", head.map((_, k) => el(tag, inline(values[k] || ""), align[k] ? `align-${align[k]}` : "")));
    const body = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].includes("|") && lines[j].trim(); j++) body.push(row(cells(lines[j]), "td"));
    const node = el("table", [el("thead", [row(head, "th")]), el("tbody", body)], "md-table");
    return [node, j];
  }

  // A run of list lines becomes nested lists by indentation; continuation lines join their item.
  function list(lines, i) {
    const items = [];
    let j = i;
    for (; j < lines.length; j++) {
      const m = ITEM.exec(lines[j]);
      if (m) { items.push({ indent: m[1].replace(/\t/g, "    ").length, ordered: /\d/.test(m[2]), start: parseInt(m[2], 10), text: m[3] }); continue; }
      if (lines[j].trim() && /^\s+/.test(lines[j]) && items.length) { items[items.length - 1].text += "\n" + lines[j].trim(); continue; }
      break;
    }
    return [nest(items, 0, items.length), j];
  }

  function nest(items, from, to) {
    const first = items[from];
    const node = el(first.ordered ? "ol" : "ul");
    if (first.ordered && first.start > 1) node.start = first.start;
    let k = from;
    while (k < to) {
      const li = el("li", inline(items[k].text));
      let end = k + 1;
      while (end < to && items[end].indent > items[k].indent) end++;
      if (end > k + 1) li.appendChild(nest(items, k + 1, end));
      node.appendChild(li);
      k = end;
    }
    return node;
  }

  function blocks(text) {
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    const out = [];
    let para = [];
    const flush = () => { if (para.length) out.push(el("p", inline(para.join("\n")))); para = []; };
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if ((m = FENCE.exec(line))) {
        flush();
        const body = [];
        let j = i + 1;
        while (j < lines.length && !lines[j].trim().startsWith(m[1])) body.push(lines[j++]);
        const code = el("code", [body.join("\n")], m[2] ? `language-${m[2]}` : "");
        out.push(el("pre", [code]));
        i = j + 1;  // an unclosed fence (a reply still streaming) runs to the end
      } else if (!line.trim()) {
        flush(); i++;
      } else if ((m = HEADING.exec(line))) {
        flush(); out.push(el(`h${m[1].length}`, inline(m[2]))); i++;
      } else if (RULE.test(line)) {
        flush(); out.push(el("hr")); i++;
      } else if (QUOTE.test(line)) {
        flush();
        const quoted = [];
        while (i < lines.length && (m = QUOTE.exec(lines[i]))) { quoted.push(m[1]); i++; }
        out.push(el("blockquote", blocks(quoted.join("\n"))));
      } else if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-")) {
        flush();
        const [node, next] = table(lines, i);
        out.push(node); i = next;
      } else if (ITEM.test(line) && (para.length === 0 || /^\s*([-*+]|1[.)])\s/.test(line))) {
        flush();
        const [node, next] = list(lines, i);
        out.push(node); i = next;
      } else {
        para.push(line); i++;
      }
    }
    flush();
    return out;
  }

  /** A DocumentFragment for `text`; every piece of it is a text node or an element made here. */
  function render(text) {
    const fragment = document.createDocumentFragment();
    for (const node of blocks(String(text == null ? "" : text))) fragment.appendChild(node);
    return fragment;
  }

  return { render };
})();
