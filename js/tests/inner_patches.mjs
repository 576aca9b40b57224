// Applies kernel-made patches with the real widget.js (its StreamView, in jsdom) and prints,
// after each, what the page shows and which DOM nodes hold the tail's open block: committed
// children must stay the same nodes frame after frame. A case may also join late: a second
// view built from the kernel's snapshot after patch `join`, then given the later patches.
// Used by tests/test_inner_page.py.   stdin: [{patches, join?, snapshot?}]   stdout: results
import { readFileSync } from "node:fs";
import { StreamView, idOf, parsed } from "./page_dom.mjs";

function state(view) {
  const part = view.parts.get(0);
  if (!part) return null;
  const inner = part.innerTail;
  const open = new Set(inner ? inner.openNodes : []);
  return {
    html: part.blockHtml.join("") + part.shownTail,
    dom_equals_html: part.blocks.innerHTML + part.tail.innerHTML
      === parsed(part.blockHtml.join("")) + parsed(part.shownTail),
    block_nodes: [...part.blocks.childNodes].map(idOf),
    container: inner ? idOf(inner.nodes[0]) : null,
    committed: inner ? [...inner.inner.childNodes].filter((n) => !open.has(n)).map(idOf) : [],
    snapshot_tail: part.toSnapshot().tail,
  };
}

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map(({ patches, join, snapshot }) => {
  const view = new StreamView(document.createElement("div"));
  const frames = patches.map((ops, i) => {
    const outcome = view.applyPatch({ type: "patch", seq: i + 1, status: "streaming", parts: ops });
    return { outcome, part: state(view) };
  });
  let joined = null;
  if (snapshot) {
    const late = new StreamView(document.createElement("div"));
    late.applySnapshot({ ...snapshot, seq: join + 1 });
    const outcomes = patches.slice(join + 1).map((ops, i) => late.applyPatch(
      { type: "patch", seq: join + 2 + i, status: "streaming", parts: ops }));
    joined = { outcomes, part: state(late) };
  }
  return { frames, joined };
});
process.stdout.write(JSON.stringify(results));
