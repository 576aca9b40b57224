// The tail's open block (inner_tail.js) applied by the real StreamView: the container is
// built once, rows and items are appended into it and never re-created, and when the block
// ends its nodes move into the committed blocks.
import { describe, expect, it } from "vitest";
import { StreamView } from "../src/widget.js";

const OPEN = "<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n";
const CLOSE = "</tbody>\n</table>\n";
const row = (i) => `<tr>\n<td>${i}</td>\n</tr>\n`;

function apply(view, seq, op) {
  return view.applyPatch({ type: "patch", seq, status: "streaming", parts: [{ id: 0, ...op }] });
}

describe("an open block in the tail", () => {
  it("appends committed rows into the tbody and keeps them", () => {
    const view = new StreamView(document.createElement("div"));
    expect(apply(view, 1, { kind: "text", inner: { open: OPEN, close: CLOSE, children: [row(0)] },
      tail: row(1).slice(0, 12) })).toBe("applied");
    const part = view.parts.get(0);
    const first = part.tail.querySelector("tbody tr");
    expect(apply(view, 2, { inner_append: [row(1) + row(2)], keep: 0, tail: row(3) })).toBe("applied");
    expect(part.tail.querySelectorAll("tbody tr").length).toBe(4);
    expect(part.tail.querySelector("tbody tr")).toBe(first);
    expect(part.shownTail).toBe(OPEN + row(0) + row(1) + row(2) + row(3) + CLOSE);
    const table = part.tail.querySelector("table");
    expect(apply(view, 3, { append: [row(3) + row(4)], from_inner: true, keep: 0, tail: "<p>end</p>\n" }))
      .toBe("applied");
    expect(part.blocks.querySelector("table")).toBe(table);
    expect(part.blocks.querySelector("tbody tr")).toBe(first);
    expect(part.blockHtml).toEqual([OPEN + [0, 1, 2, 3, 4].map(row).join("") + CLOSE]);
    expect(part.tail.innerHTML).toBe("<p>end</p>\n");
    expect(part.innerTail).toBe(null);
  });

  it("drops the open block when told, and shows what follows it", () => {
    const view = new StreamView(document.createElement("div"));
    apply(view, 1, { kind: "text", inner: { open: "<ul>\n", close: "</ul>\n", children: ["<li>a</li>\n"] },
      tail: "<li>b</li>\n", after: "<h1>x</h1>\n" });
    const part = view.parts.get(0);
    expect(part.tail.innerHTML).toBe("<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<h1>x</h1>\n");
    expect(part.toSnapshot().inner.children).toEqual(["<li>a</li>\n"]);
    apply(view, 2, { inner: null, keep: 0, tail: "<ol>\n<li>z</li>\n</ol>\n" });
    expect(part.innerTail).toBe(null);
    expect(part.tail.innerHTML).toBe("<ol>\n<li>z</li>\n</ol>\n");
  });
});
