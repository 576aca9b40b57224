// Applies kernel-made patches with the real widget.js (its StreamView, in jsdom) and prints
// what the page holds after each patch. Used by tests/test_page_js.py.
// stdin: [{"patches": [[PartOp, ...], ...]}, ...]   stdout: one JSON result per case.
import { readFileSync } from "node:fs";
import { StreamView, idOf, parsed } from "./page_dom.mjs";

function state(view) {
  const parts = {};
  for (const [id, part] of view.parts) {
    const html = part.blocks ? part.blockHtml.join("") + part.shownTail : null;
    const dom = part.blocks ? part.blocks.innerHTML + part.tail.innerHTML : null;
    parts[id] = {
      kind: part.kind,
      html,
      text: part.blocks ? null : part.text,
      shown: part.blocks ? null : part.pre?.textContent ?? null,
      // The sanitiser must leave everything the kernel's renderer makes as it is.
      block_nodes: part.blocks ? [...part.blocks.childNodes].map(idOf) : null,
      dom_equals_html: part.blocks ? dom === parsed(part.blockHtml.join("")) + parsed(part.shownTail) : true,
    };
  }
  return parts;
}

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map(({ patches }) => {
  const view = new StreamView(document.createElement("div"));
  return patches.map((ops, i) => {
    const outcome = view.applyPatch({ type: "patch", seq: i + 1, status: "streaming", parts: ops });
    return { outcome, parts: state(view) };
  });
});
process.stdout.write(JSON.stringify(results));
