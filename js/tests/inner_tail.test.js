// The tail's open block (inner_tail.js) applied by the real StreamView: the container is
// built once, rows and items are appended into it and never re-created, and when the block
// ends its nodes move into the committed blocks.
import { afterEach, describe, expect, it, vi } from "vitest";
import { BLOCKS_PER_GROUP, GROUP_SIZE } from "../src/child_groups.js";
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
    const first = part.blocks.querySelector("tbody tr"); // built where it stays: after the blocks
    expect(apply(view, 2, { inner_append: [row(1) + row(2)], keep: 0, tail: row(3) })).toBe("applied");
    expect(part.blocks.querySelectorAll("tbody tr").length).toBe(4);
    expect(part.blocks.querySelector("tbody tr")).toBe(first);
    expect(part.shownTail).toBe(OPEN + row(0) + row(1) + row(2) + row(3) + CLOSE);
    const table = part.blocks.querySelector("table");
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
    expect(part.blocks.innerHTML + part.tail.innerHTML)
      .toBe("<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<h1>x</h1>\n");
    expect(part.toSnapshot().inner.children).toEqual(["<li>a</li>\n"]);
    apply(view, 2, { inner: null, keep: 0, tail: "<ol>\n<li>z</li>\n</ol>\n" });
    expect(part.innerTail).toBe(null);
    expect(part.blocks.innerHTML).toBe("");
    expect(part.tail.innerHTML).toBe("<ol>\n<li>z</li>\n</ol>\n");
  });
});

describe("a long table's rows", () => {
  afterEach(() => vi.restoreAllMocks());

  /** jsdom lays nothing out: the cells get the widths a browser would give them. */
  const laidOut = () => vi.spyOn(HTMLElement.prototype, "getBoundingClientRect")
    .mockImplementation(() => /** @type {DOMRect} */ ({ width: 41.5, height: 20 }));

  it("go into row groups once the page has laid the table out, and stay there", () => {
    laidOut();
    const view = new StreamView(document.createElement("div"));
    const n = GROUP_SIZE * 2 + 5;
    const rows = Array.from({ length: n }, (_, i) => row(i));
    apply(view, 1, { kind: "text", inner: { open: OPEN, close: CLOSE, children: rows.slice(0, 3) },
      tail: row(n).slice(0, 9) });
    const part = view.parts.get(0);
    const table = part.blocks.querySelector("table");
    const first = table.querySelector("tbody tr");
    for (let i = 3, seq = 2; i < n; i += 7, seq += 1) {
      expect(apply(view, seq, { inner_append: [rows.slice(i, i + 7).join("")], keep: 0,
        tail: row(n).slice(0, 9) })).toBe("applied");
    }
    const groups = [...table.tBodies];
    expect(groups.map((g) => g.querySelectorAll("tr").length))
      .toEqual([GROUP_SIZE, GROUP_SIZE, 5 + 1]); // the open row in the last group
    expect(table.classList.contains("nbs-by-rows")).toBe(true);
    expect(table.style.getPropertyValue("--nbs-cols")).toBe("42px");
    expect(groups.map((g) => g.classList.contains("nbs-group-done"))).toEqual([true, true, false]);
    expect(table.querySelector("tbody tr")).toBe(first);
    const cells = [...table.querySelectorAll("tbody td")].map((td) => td.textContent);
    expect(cells).toEqual([...Array.from({ length: n }, (_, i) => String(i)), ""]);
    expect(part.shownTail).toBe(OPEN + rows.join("") + row(n).slice(0, 9) + CLOSE);
    apply(view, 99, { append: [row(n)], from_inner: true, keep: 0, tail: "" });
    expect(part.blocks.querySelector("table")).toBe(table);
    expect([...table.tBodies].length).toBe(3); // not merged: one <tbody> is a layout afresh
    expect(table.querySelectorAll("tbody tr").length).toBe(n + 1);
  });

  it("stay in one <tbody> while the table is not laid out (a hidden output)", () => {
    const view = new StreamView(document.createElement("div"));
    const rows = Array.from({ length: GROUP_SIZE + 20 }, (_, i) => row(i));
    apply(view, 1, { kind: "text", inner: { open: OPEN, close: CLOSE, children: rows } });
    const table = view.parts.get(0).blocks.querySelector("table");
    expect(table.tBodies.length).toBe(1);
    expect(table.classList.contains("nbs-by-rows")).toBe(false);
  });

  it("of a list go on in lists after it, an ordered one counting on", () => {
    laidOut();
    const view = new StreamView(document.createElement("div"));
    const item = (i) => `<li>item ${i}</li>\n`;
    const n = GROUP_SIZE * 2 + 3;
    apply(view, 1, { kind: "text", inner: { open: '<ol start="5">\n', close: "</ol>\n",
      children: Array.from({ length: n }, (_, i) => item(i)) }, tail: "<li>open</li>\n" });
    const part = view.parts.get(0);
    const lists = [...part.blocks.children];
    expect(lists.map((l) => [l.localName, l.start, l.children.length]))
      .toEqual([["ol", 5, GROUP_SIZE], ["ol", 5 + GROUP_SIZE, GROUP_SIZE], ["ol", 5 + 2 * GROUP_SIZE, 4]]);
    expect(lists[2].lastElementChild.textContent).toBe("open");
    expect(lists.map((l) => l.classList.contains("nbs-group-done"))).toEqual([true, true, false]);
    const first = lists[0].firstElementChild;
    apply(view, 2, { append: ["<li>last</li>\n"], from_inner: true, keep: 0, tail: "<p>after</p>\n" });
    expect(part.blockNodes[0].filter((node) => node.nodeType === 1)).toEqual(lists);
    expect(part.blocks.firstElementChild.firstElementChild).toBe(first);
    expect(part.blocks.textContent.match(/item \d+|last/g).length).toBe(n + 1);
    apply(view, 3, { settle: [[0, '<ol start="5">\n<li>settled</li>\n</ol>\n']] });
    expect(part.blocks.querySelectorAll("ol").length).toBe(1); // the whole block, groups too
  });

  it("of a code block go into blocks of lines in its <code>", () => {
    laidOut();
    const view = new StreamView(document.createElement("div"));
    const open = '<div class="nbs-code"><div class="nbs-code-bar">python</div><pre><code class="language-python">';
    const line = (i) => `<span class="n">x_${i}</span> <span class="o">=</span> ${"1".repeat(60)}\n`;
    const lines = Array.from({ length: 200 }, (_, i) => line(i));
    apply(view, 1, { kind: "text", inner: { open, close: "</code></pre></div>\n",
      children: lines.slice(0, 10) }, tail: "<span>x_open</span>" });
    const code = view.parts.get(0).blocks.querySelector("code");
    const first = code.firstElementChild;
    for (let i = 10, seq = 2; i < lines.length; i += 10, seq += 1) {
      apply(view, seq, { inner_append: [lines.slice(i, i + 10).join("")], keep: 0,
        tail: "<span>x_open</span>" });
    }
    const groups = [...code.querySelectorAll(":scope > .nbs-code-lines")];
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.slice(0, -1).every((g) => g.classList.contains("nbs-group-done"))).toBe(true);
    expect(groups.every((g) => g.textContent.endsWith("\n") || g === groups.at(-1))).toBe(true);
    expect(code.textContent).toBe(lines.map((l) => l.replace(/<[^>]+>/g, "")).join("") + "x_open");
    expect(code.firstElementChild).toBe(first);
  });

  it("of a long answer go into containers of a hundred blocks", () => {
    laidOut();
    const view = new StreamView(document.createElement("div"));
    const block = (i) => `<p>block ${i}</p>\n`;
    for (let i = 0, seq = 1; i < 250; i += 10, seq += 1) {
      apply(view, seq, { kind: "text", append: Array.from({ length: 10 }, (_, k) => block(i + k)),
        tail: "<p>open</p>\n" });
    }
    const part = view.parts.get(0);
    const shelves = [...part.el.querySelectorAll(".nbs-blocks")];
    expect(shelves.map((s) => s.children.length)).toEqual([BLOCKS_PER_GROUP, BLOCKS_PER_GROUP, 50]);
    expect(shelves[0]).toBe(part.blocks);
    expect(shelves.map((s) => s.classList.contains("nbs-group-done"))).toEqual([true, true, false]);
    expect([...part.el.querySelectorAll(".nbs-blocks > p")].map((p) => p.textContent))
      .toEqual(Array.from({ length: 250 }, (_, i) => `block ${i}`));
    const kept = shelves[1].children[4];
    apply(view, 26, { settle: [[150, "<p>settled 150</p>\n"]] });
    expect(shelves[1].children[50].textContent).toBe("settled 150");
    expect(shelves[1].children[4]).toBe(kept);
    apply(view, 27, { reset: true, append: [block(0)], tail: "" });
    expect(part.el.querySelectorAll(".nbs-blocks").length).toBe(1);
    expect(part.blocks.textContent).toBe("block 0\n");
  });
});
