// MathML through the page's sanitiser, and the end-of-stream `settle` op (late reference
// definitions) applied by the real StreamView: only the named blocks' nodes change.
import { describe, expect, it } from "vitest";
import { StreamView, safeFragment } from "../src/widget.js";
import { textOp } from "./helpers.js";

const MATH_NS = "http://www.w3.org/1998/Math/MathML";

/** `html` through safeFragment, serialised. */
function cleaned(html) {
  const holder = document.createElement("div");
  holder.append(safeFragment(html));
  return holder;
}

describe("safeFragment and MathML", () => {
  it("keeps the MathML the kernel makes, in the MathML namespace", () => {
    const html = '<div class="nbs-math" data-display="block"><math display="block"><mrow><mfrac>'
      + '<mrow><mi>a</mi></mrow><mrow><mi>b</mi></mrow></mfrac><mtable columnalign="left">'
      + '<mtr><mtd><mi mathvariant="normal">x</mi></mtd></mtr></mtable></mrow></math></div>';
    const holder = cleaned(html);
    expect(holder.innerHTML).toBe(html);
    expect(holder.querySelector("mfrac").namespaceURI).toBe(MATH_NS);
  });

  it("drops links, actions, styles, handlers, foreign markup and annotation-xml", () => {
    const holder = cleaned('<span class="nbs-math"><math display="block" xmlns:xlink="http://www.w3.org/1999/xlink">'
      + '<mrow href="javascript:alert(1)" onclick="alert(1)" style="position:fixed" class="nbs-x">'
      + '<mi xlink:href="javascript:alert(1)" mathcolor="white">x</mi>'
      + '<maction actiontype="toggle"><mi>a</mi><mi>b</mi></maction>'
      + '<semantics><mi>y</mi><annotation-xml encoding="text/html"><img src=x onerror="alert(1)"></annotation-xml></semantics>'
      + '<mtext><img src=x onerror="alert(1)"><script>alert(1)</script></mtext>'
      + '<mi width="expression(alert(1))">z</mi><math><mi>nested</mi></math></mrow></math></span>');
    const html = holder.innerHTML;
    for (const bad of ["href", "onclick", "onerror", "style", "nbs-x", "mathcolor", "maction",
      "semantics", "annotation", "<img", "<script", "expression", "xlink", "<math><mi>nested"]) {
      expect(html).not.toContain(bad);
    }
    expect(holder.querySelectorAll("math")).toHaveLength(1);
    expect(holder.textContent).toContain("x");
  });

  it("does not take an HTML element for MathML, nor MathML outside <math>", () => {
    const holder = cleaned("<mi>loose</mi><p><mrow>also</mrow></p>");
    expect(holder.innerHTML).toBe("loose<p>also</p>");
  });
});

describe("settle: a late reference definition", () => {
  const link = '<p>See <a href="https://e.com/docs" target="_blank" rel="noopener noreferrer nofollow">docs</a>.</p>\n';

  function streamed() {
    const view = new StreamView(document.createElement("div"));
    document.body.append(view.body);
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({
      append: ["<h1>Title</h1>\n", "<p>See [docs].</p>\n", "<p>keep me</p>\n<p>and me</p>\n"],
      keep: 0, tail: "<p>the end</p>\n" })] });
    return view;
  }

  it("replaces only the named block; the other nodes are the same objects", () => {
    const view = streamed();
    const blocks = view.body.querySelector(".nbs-blocks");
    const before = [...blocks.childNodes];
    expect(view.applyPatch({ type: "patch", seq: 2, status: "done",
      parts: [{ id: 0, done: true, settle: [[1, link]] }] })).toBe("applied");
    const after = [...blocks.childNodes];
    expect(blocks.innerHTML).toBe(`<h1>Title</h1>\n${link}<p>keep me</p>\n<p>and me</p>\n`);
    expect(after.length).toBe(before.length);
    const kept = after.filter((node) => before.includes(node));
    expect(kept.length).toBe(before.length - 2); // the old <p> and its newline are new nodes
    expect(after[0]).toBe(before[0]);
    expect(after.slice(4)).toEqual(before.slice(4));
    expect(view.parts.get(0).toSnapshot().blocks[1]).toBe(link);
  });

  it("keeps the reader's selection in an unchanged block", () => {
    const view = streamed();
    const keep = [...view.body.querySelectorAll(".nbs-blocks p")].find((p) => p.textContent === "keep me");
    const selection = document.getSelection();
    selection.selectAllChildren(keep);
    view.applyPatch({ type: "patch", seq: 2, status: "done", parts: [{ id: 0, done: true, settle: [[1, link]] }] });
    expect(keep.isConnected).toBe(true);
    expect(selection.rangeCount).toBe(1);
    expect(selection.anchorNode).toBe(keep);
    expect(selection.toString()).toBe("keep me");
  });

  it("a settle for a block the page does not have asks for a snapshot", () => {
    const view = streamed();
    expect(view.applyPatch({ type: "patch", seq: 2, status: "done",
      parts: [{ id: 0, settle: [[3, link]] }] })).toBe("mismatch");
  });
});
