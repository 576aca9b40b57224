import { describe, expect, it, vi } from "vitest";
import widget, { StreamView, adler32Utf16, formatMetrics, safeFragment } from "../src/widget.js";
import { deflated, fakeModel, on, rendered, textOp } from "./helpers.js";


describe("StreamView patches", () => {
  it("appends committed blocks once and never re-creates their nodes", () => {
    const view = new StreamView(document.createElement("div"));
    expect(view.applyPatch({ type: "patch", seq: 1, status: "streaming",
      parts: [textOp({ append: ["<h1>Title</h1>\n"], keep: 0, tail: "<p>Hel</p>" })] })).toBe("applied");
    const heading = view.body.querySelector("h1");
    expect(view.applyPatch({ type: "patch", seq: 2, status: "streaming",
      parts: [{ id: 0, append: ["<p>Hello</p>\n"], keep: 0, tail: "<ul><li>a</li></ul>" }] })).toBe("applied");
    expect(view.body.querySelector("h1")).toBe(heading);
    expect(view.body.querySelector(".nbs-blocks").innerHTML).toBe("<h1>Title</h1>\n<p>Hello</p>\n");
    expect(view.body.querySelector(".nbs-tail").innerHTML).toBe("<ul><li>a</li></ul>");
  });

  it("rebuilds the tail from the kept prefix plus the new suffix", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>Hello</p>" })] });
    view.applyPatch({ type: "patch", seq: 2, status: "streaming", parts: [on("<p>Hello</p>", { id: 0, keep: 8, tail: " world</p>" })] });
    expect(view.parts.get(0).tailHtml).toBe("<p>Hello world</p>");
  });

  it("ignores patches it already has and reports gaps", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>a</p>" })] });
    expect(view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [] })).toBe("stale");
    expect(view.applyPatch({ type: "patch", seq: 3, status: "streaming", parts: [] })).toBe("gap");
    expect(view.seq).toBe(1);
  });

  it("applies a snapshot that is newer, and keeps its DOM for one it already has", () => {
    const view = new StreamView(document.createElement("div"));
    const snapshot = { seq: 4, status: "streaming", parts: [{ id: 0, kind: "text", choice: 0, info: {},
      done: false, blocks: ["<p>one</p>\n", "<p>two</p>\n"], tail: "<p>thr</p>" }] };
    expect(view.applySnapshot(snapshot)).toBe(true);
    const first = view.body.querySelector("p");
    expect(view.body.textContent).toContain("two");
    expect(view.applySnapshot(snapshot)).toBe(false);
    expect(view.body.querySelector("p")).toBe(first);
    expect(view.applyPatch({ type: "patch", seq: 5, status: "streaming", parts: [on("<p>thr</p>", { id: 0, keep: 6, tail: "ee</p>" })] })).toBe("applied");
    expect(view.parts.get(0).tailHtml).toBe("<p>three</p>");
  });

  it("a reset replaces everything", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ append: ["<p>old</p>"], keep: 0, tail: "" })] });
    view.applyPatch({ type: "patch", seq: 2, status: "done", parts: [{ id: 0, reset: true, append: ["<p>new</p>"], keep: 0, tail: "" }] });
    expect(view.body.querySelector(".nbs-blocks").innerHTML).toBe("<p>new</p>");
  });

  it("shows plain parts as text, never as HTML", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [
      { id: 1, kind: "tool_call", choice: 0, info: { name: "get_weather" }, done: false, keep: 0, text: '{"city": "<img src=x onerror=alert(1)>' },
    ] });
    const pre = view.body.querySelector(".nbs-tool_call pre");
    expect(pre.textContent).toContain("<img");
    expect(pre.querySelector("img")).toBeNull();
    view.applyPatch({ type: "patch", seq: 2, status: "done", parts: [on('{"city": "<img src=x onerror=alert(1)>', { id: 1, info: { name: "get_weather" }, done: true, keep: 38, text: '"}' })] });
    expect(pre.textContent).toBe('{\n  "city": "<img src=x onerror=alert(1)>"\n}');
  });

  it("records a snapshot equal to what it shows", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "done", metrics: { output_tokens: 3 },
      parts: [textOp({ append: ["<p>a</p>"], keep: 0, tail: "<p>b</p>" })] });
    const snap = view.toSnapshot("done");
    const other = new StreamView(document.createElement("div"));
    other.applySnapshot(snap);
    expect(other.body.innerHTML).toBe(view.body.innerHTML);
    expect(snap.metrics.output_tokens).toBe(3);
  });
});

describe("render", () => {
  it("asks for a snapshot when joining a running stream, applies patches in a frame, and stops", async () => {
    const { model, el, cleanup } = rendered({ status: "streaming" });
    expect(model.sent).toEqual([{ type: "hello" }]);
    model.emit("msg:custom", { type: "snapshot", snapshot: { seq: 2, status: "streaming", parts: [] } });
    model.emit("msg:custom", { type: "patch", seq: 3, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>hi</p>" })] });
    await new Promise((r) => setTimeout(r, 5));
    expect(el.querySelector(".nbstream-body").textContent).toBe("hi");
    const stop = el.querySelector("button.nbstream-stop");
    expect(stop.getAttribute("aria-label")).toBe("Stop generation");
    stop.click();
    expect(model.sent.at(-1)).toEqual({ type: "stop" });
    model.emit("msg:custom", { type: "patch", seq: 4, status: "stopped", final: true, parts: [] });
    model.set("status", "stopped");
    await new Promise((r) => setTimeout(r, 5));
    expect(el.querySelector(".nbstream").dataset.status).toBe("stopped");
    expect(stop.classList.contains("nbs-gone")).toBe(true);
    expect(model.sent.filter((m) => m.type === "stop").length).toBe(1);
    cleanup();
  });

  it("takes the live status from the patches and the final one from the trait", async () => {
    // The kernel syncs the status trait once, at the end (with the final snapshot): while the
    // stream runs, the status comes with every patch.
    const { model, el, cleanup } = rendered({ status: "pending" });
    const root = el.querySelector(".nbstream");
    expect(root.dataset.status).toBe("pending");
    model.emit("msg:custom", { type: "snapshot", snapshot: { seq: 0, status: "pending", parts: [] } });
    model.emit("msg:custom", { type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>hi</p>" })] });
    await vi.waitFor(() => expect(root.dataset.status).toBe("streaming"));
    expect(el.querySelector(".nbstream-status").textContent).not.toBe("Waiting for the model…");
    model.set("status", "done");
    expect(root.dataset.status).toBe("done");
    model.emit("msg:custom", { type: "patch", seq: 2, status: "streaming", parts: [] }); // late
    await new Promise((r) => setTimeout(r, 5));
    expect(root.dataset.status).toBe("done");
    expect(el.querySelector("button.nbstream-stop").classList.contains("nbs-gone")).toBe(true);
    cleanup();
  });

  it("a gap triggers one hello", async () => {
    const { model, el } = rendered({ status: "done", _snapshot: await deflated({ seq: 1, status: "done", parts: [] }) });
    expect(model.sent).toEqual([]);
    model.emit("msg:custom", { type: "patch", seq: 5, status: "streaming", parts: [] });
    model.emit("msg:custom", { type: "patch", seq: 6, status: "streaming", parts: [] });
    await vi.waitFor(() => expect(model.sent).toEqual([{ type: "hello" }]));
  });
});

describe("the title", () => {
  it("shows the title as text, and follows a change", () => {
    const model = fakeModel({ status: "done", title: '<img src=x onerror="alert(1)"> run 1' });
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
    const title = el.querySelector(".nbstream-title");
    expect(title.textContent).toBe('<img src=x onerror="alert(1)"> run 1');
    expect(el.querySelector("img")).toBe(null);
    model.set("title", "run 2");
    expect(title.textContent).toBe("run 2");
    model.set("title", "");
    expect(title.hidden).toBe(true);
    cleanup();
  });
});

describe("why it stopped, and what it cost", () => {
  it("says the reason and when, and nothing more for the Stop button", async () => {
    const { stoppedLabel } = await import("../src/widget.js");
    expect(stoppedLabel({ stop_reason: "loop", stopped_after_s: 3.24 })).toBe("Stopped: repetition loop at 3.2 s");
    expect(stoppedLabel({ stop_reason: "interrupt", stopped_after_s: 0.5 })).toMatch(/^Stopped: interrupted at /);
    expect(stoppedLabel({ stop_reason: "user", stopped_after_s: 2 })).toBe("Stopped");
    expect(stoppedLabel({ stop_reason: "something-new" })).toBe("Stopped: something-new");
    expect(stoppedLabel(null)).toBe("Stopped");
  });

  it("shows the cost, marked when it is an estimate", () => {
    expect(formatMetrics({ cost_usd: 0.001305, cost_estimated: false })).toBe("$0.0013");
    expect(formatMetrics({ cost_usd: 0.25, cost_estimated: true })).toBe("≈ $0.25");
    expect(formatMetrics({ cost_usd: null })).toBe("");
  });
});

describe("formatMetrics", () => {
  it("formats what it has", () => {
    expect(formatMetrics({ output_tokens: 12, output_tokens_estimated: true, tokens_per_s: 40.5, ttft_s: 0.5, duration_s: 1.25 }))
      .toBe("~12 tokens · 40.5 tok/s · first token 0.50 s");
    expect(formatMetrics(undefined)).toBe("");
  });
});

describe("parts of every kind", () => {
  it("shows each choice in its own tab", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [
      textOp({ id: 0, choice: 0, keep: 0, tail: "<p>zero</p>" }),
      textOp({ id: 1, choice: 1, keep: 0, tail: "<p>one</p>" }),
    ] });
    expect(view.tabs.hidden).toBe(false);
    expect([...view.tabs.children].map((t) => t.textContent)).toEqual(["Choice 1", "Choice 2"]);
    expect(view.panels.get(1).hidden).toBe(true);
    view.tabs.children[1].click();
    expect(view.panels.get(0).hidden).toBe(true);
    expect(view.panels.get(1).hidden).toBe(false);
  });

  it("collapses the reasoning once the answer starts", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [
      { id: 0, kind: "reasoning", choice: 0, info: {}, done: false, keep: 0, tail: "<p>thinking</p>" },
    ] });
    const details = view.body.querySelector("details");
    expect(details.open).toBe(true);
    view.applyPatch({ type: "patch", seq: 2, status: "streaming", parts: [textOp({ id: 1, keep: 0, tail: "<p>answer</p>" })] });
    expect(details.open).toBe(false);
  });

  it("lists citations with safe links only", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>x</p>", info: { annotations: [
      { type: "url_citation", url: "https://example.com/a", title: "Example A" },
      { type: "url_citation", url: "javascript:alert(1)", title: "Evil" },
      { type: "file_citation", filename: "notes.pdf", file_id: "file_1" },
    ] } })] });
    const items = [...view.body.querySelectorAll(".nbs-sources li")];
    expect(items.map((li) => li.textContent)).toEqual(["Example A", "Evil", "notes.pdf"]);
    expect(items[0].querySelector("a").getAttribute("href")).toBe("https://example.com/a");
    expect(items[1].querySelector("a")).toBeNull();
  });

  it("shows hosted tools as a status line and generated images", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [
      { id: 0, kind: "tool", choice: 0, info: { type: "web_search_call", status: "searching" }, done: false },
      { id: 1, kind: "tool", choice: 0, info: { type: "image_generation_call", status: "generating" }, done: false, keep: 0, text: "iVBORw0KGgo=" },
    ] });
    expect(view.body.querySelector('[data-part="0"] .nbs-label').textContent).toBe("web search · searching");
    expect(view.body.querySelector('[data-part="1"] img').getAttribute("src")).toBe("data:image/png;base64,iVBORw0KGgo=");
  });
});

describe("timelineSvg", () => {
  it("draws one bar per bucket, scaled to the peak", async () => {
    const { timelineSvg } = await import("../src/widget.js");
    const svg = timelineSvg({ bucket_s: 0.5, counts: [1, 4, 2] });
    const bars = svg.querySelectorAll("rect");
    expect(bars.length).toBe(3);
    expect(Number(bars[1].getAttribute("height"))).toBeCloseTo(38);
    expect(svg.getAttribute("aria-label")).toContain("8 tokens/s");
  });
});

describe("deflated patches", () => {
  it("inflates and applies them in order with plain ones", async () => {
    const { deflateSync } = await import("node:zlib");
    const { model, el } = rendered({ status: "streaming" });
    model.emit("msg:custom", { type: "snapshot", snapshot: { seq: 0, status: "streaming", parts: [] } });
    const parts = [textOp({ append: ["<p>big block</p>\n"], keep: 0, tail: "<p>ta</p>" })];
    const packed = deflateSync(Buffer.from(JSON.stringify(parts)));
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    model.emit("msg:custom", { type: "patch", seq: 1, status: "streaming", parts: null, z: 1 }, [view]);
    model.emit("msg:custom", { type: "patch", seq: 2, status: "streaming", parts: [on("<p>ta</p>", { id: 0, keep: 5, tail: "il</p>" })] });
    await vi.waitFor(() => expect(el.querySelector(".nbs-tail").innerHTML).toBe("<p>tail</p>"));
    expect(el.querySelector(".nbs-blocks").innerHTML).toBe("<p>big block</p>\n");
    expect(model.sent.filter((m) => m.type === "hello").length).toBe(1);
  });
});

describe("committing the open tail", () => {
  it("rebuilds a committed block from the tail it already has", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>Hello wor</p>\n" })] });
    view.applyPatch({ type: "patch", seq: 2, status: "streaming", parts: [
      on("<p>Hello wor</p>\n", { id: 0, from_tail: 12, append: ["ld</p>\n"], keep: 0, tail: "<ul><li>a</li></ul>" }),
    ] });
    expect(view.parts.get(0).blockHtml).toEqual(["<p>Hello world</p>\n"]);
    expect(view.body.querySelector(".nbs-blocks").innerHTML).toBe("<p>Hello world</p>\n");
    expect(view.parts.get(0).tailHtml).toBe("<ul><li>a</li></ul>");
  });
});

describe("re-rendered in place", () => {
  it("a new view takes over the emptied view's DOM: same nodes, selection kept", async () => {
    vi.stubGlobal("requestAnimationFrame", (cb) => setTimeout(cb, 0));
    const model = fakeModel({ status: "streaming", _key: "w1" });
    const host = document.createElement("div");
    document.body.append(host);
    const first = document.createElement("div");
    host.append(first);
    const cleanupFirst = widget.render({ model, el: first });
    model.emit("msg:custom", { type: "snapshot", snapshot: { seq: 0, status: "streaming", parts: [] } });
    model.emit("msg:custom", { type: "patch", seq: 1, status: "streaming", parts: [textOp({ append: ["<p>kept block</p>"], keep: 0, tail: "" })] });
    await vi.waitFor(() => expect(first.querySelector(".nbs-blocks p")).not.toBeNull());
    const block = first.querySelector(".nbs-blocks p");
    document.getSelection().selectAllChildren(block);
    document.dispatchEvent(new Event("selectionchange"));
    // What JupyterLab does on a display update: empty the output, render a new view.
    host.textContent = "Loading widget...";
    const second = document.createElement("div");
    host.replaceChildren(second);
    const proxy = { ...model, get: model.get, send: model.send.bind(model) }; // a view's own proxy
    const cleanupSecond = widget.render({ model: proxy, el: second });
    expect(second.querySelector(".nbs-blocks p")).toBe(block);
    await vi.waitFor(() => expect(document.getSelection().anchorNode).toBe(block));
    cleanupFirst(); // the old view's late cleanup must not unwire the adopted DOM
    model.emit("msg:custom", { type: "patch", seq: 2, status: "streaming", parts: [{ id: 0, keep: 0, tail: "<p>still live</p>" }] });
    await vi.waitFor(() => expect(second.querySelector(".nbs-tail").textContent).toBe("still live"));
    cleanupSecond();
    host.remove();
  });

  it("a view joining a finished stream shows the deflated final snapshot", async () => {
    vi.stubGlobal("requestAnimationFrame", (cb) => setTimeout(cb, 0));
    const snapshot = { seq: 7, status: "done", parts: [{ id: 0, kind: "text", choice: 0, info: {}, done: true, blocks: ["<p>final answer</p>"], tail: "" }] };
    const model = fakeModel({ status: "done", _snapshot: await deflated(snapshot) });
    const el = document.createElement("div");
    widget.render({ model, el });
    await vi.waitFor(() => expect(el.querySelector(".nbstream-body").textContent).toBe("final answer"));
    expect(model.sent).toEqual([]);
  });
});

describe("a patch without a tail", () => {
  it("appends blocks and leaves the open tail as it was", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>gap</p>" })] });
    view.applyPatch({ type: "patch", seq: 2, status: "streaming", parts: [{ id: 0, append: ["<p>block</p>"] }] });
    expect(view.parts.get(0).tailHtml).toBe("<p>gap</p>");
    view.applyPatch({ type: "patch", seq: 3, status: "streaming", parts: [on("<p>gap</p>", { id: 0, from_tail: 3, append: ["gapper</p>"], keep: 3, tail: "x</p>" })] });
    expect(view.parts.get(0).blockHtml).toEqual(["<p>block</p>", "<p>gapper</p>"]);
    expect(view.parts.get(0).tailHtml).toBe("<p>x</p>");
  });
});

describe("splices only into the string the kernel means", () => {
  it("counts offsets in UTF-16 units: an emoji before the edit point does not shift the page", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>👌 a</p>\n" })] });
    // The kernel keeps `<p>👌 a` (7 UTF-16 units; 6 code points in Python).
    expect(view.applyPatch({ type: "patch", seq: 2, status: "streaming",
      parts: [on("<p>👌 a</p>\n", { id: 0, keep: 7, tail: "b</p>\n" })] })).toBe("applied");
    expect(view.parts.get(0).tailHtml).toBe("<p>👌 ab</p>\n");
  });

  it("refuses a splice whose check does not match its copy, and keeps the page as it was", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>👌 &lt;img src=x&gt;</p>" })] });
    const shifted = { id: 0, keep: 6, tail: "img src=x onerror=alert(1)>" };
    expect(view.applyPatch({ type: "patch", seq: 2, status: "streaming",
      parts: [{ ...shifted, check: [999, 1] }] })).toBe("mismatch");
    expect(view.applyPatch({ type: "patch", seq: 2, status: "streaming", parts: [shifted] })).toBe("mismatch");
    expect(view.seq).toBe(1);
    expect(view.body.querySelector("img")).toBeNull();
    expect(view.parts.get(0).tailHtml).toBe("<p>👌 &lt;img src=x&gt;</p>");
  });

  it("asks for a snapshot on a mismatch", async () => {
    const { model, el } = rendered({ status: "streaming" });
    model.emit("msg:custom", { type: "snapshot", snapshot: { seq: 1, status: "streaming", parts: [
      { id: 0, kind: "text", choice: 0, info: {}, done: false, blocks: [], tail: "<p>a</p>" }] } });
    await vi.waitFor(() => expect(el.querySelector(".nbs-tail").textContent).toBe("a"));
    const hellos = model.sent.filter((m) => m.type === "hello").length;
    model.emit("msg:custom", { type: "patch", seq: 2, status: "streaming", parts: [{ id: 0, keep: 3, tail: "b</p>", check: [8, 0] }] });
    await vi.waitFor(() => expect(model.sent.filter((m) => m.type === "hello").length).toBe(hellos + 1));
    expect(el.querySelector(".nbs-tail").textContent).toBe("a");
  });

  it("adler32Utf16 matches zlib's Adler-32 of the UTF-16LE bytes", async () => {
    const { adler32 } = await import("node:zlib").then((z) => ({ adler32: z.adler32 })).catch(() => ({}));
    const text = "héllo 👌 世界 مرحبا \ud800 ".repeat(500);
    const bytes = Buffer.from(text, "utf16le");
    let a = 1, b = 0;
    for (const byte of bytes) { a = (a + byte) % 65521; b = (b + a) % 65521; }
    expect(adler32Utf16(text)).toBe(b * 65536 + a);
    if (adler32) expect(adler32Utf16(text)).toBe(adler32(bytes) >>> 0);
  });
});

describe("an answer hidden by moderation", () => {
  const hiddenPatch = (seq) => ({ type: "patch", seq, status: "stopped", final: true,
    metrics: { stop_reason: "moderation", stop_detail: "flagged: violence", stopped_after_s: 1.2 },
    parts: [{ id: 0, kind: "text", choice: 0, info: { hidden: "moderation" }, done: false }] });
  const cover = (root) => root.querySelector(".nbs-hidden-cover");

  it("hides the parts behind a control that reveals them in this view only", () => {
    const view = new StreamView(document.createElement("div"));
    view.applyPatch({ type: "patch", seq: 1, status: "streaming",
      parts: [textOp({ append: ["<p>flagged words</p>\n"], keep: 0, tail: "<p>more</p>" })] });
    expect(cover(view.body)).toBeNull();
    expect(view.applyPatch(hiddenPatch(2))).toBe("applied");
    const control = cover(view.body);
    expect(control.hidden).toBe(false);
    expect(control.textContent).toBe("Hidden by moderation — show");
    const part = view.body.querySelector('[data-part="0"]');
    expect(part.hidden).toBe(true);
    expect(part.textContent).toContain("flagged words"); // still there, behind the control
    // Another view of the same state (a second output, a reloaded page) is hidden too.
    const other = new StreamView(document.createElement("div"));
    other.applySnapshot(view.toSnapshot("stopped"));
    expect(cover(other.body).hidden).toBe(false);
    expect(other.body.querySelector('[data-part="0"]').hidden).toBe(true);
    control.querySelector("button").click();
    expect(control.hidden).toBe(true);
    expect(part.hidden).toBe(false);
    expect(other.body.querySelector('[data-part="0"]').hidden).toBe(true);
    // A later snapshot rebuilding the DOM keeps what this reader chose.
    view.wantsSnapshot = true;
    view.applySnapshot(view.toSnapshot("stopped"));
    expect(view.body.querySelector('[data-part="0"]').hidden).toBe(false);
    expect(cover(view.body).hidden).toBe(true);
  });

  it("a view of the saved final state shows the control, and the header says why", async () => {
    vi.stubGlobal("requestAnimationFrame", (cb) => setTimeout(cb, 0));
    const snapshot = { seq: 3, status: "stopped", metrics: hiddenPatch(3).metrics, parts: [
      { id: 0, kind: "text", choice: 0, info: { hidden: "moderation" }, done: false,
        blocks: ["<p>flagged answer</p>"], tail: "" },
      { id: 1, kind: "reasoning", choice: 0, info: { hidden: "moderation" }, done: true,
        blocks: ["<p>thoughts</p>"], tail: "" }] };
    const model = fakeModel({ status: "stopped", _snapshot: await deflated(snapshot) });
    const el = document.createElement("div");
    widget.render({ model, el });
    await vi.waitFor(() => expect(cover(el)).not.toBeNull());
    expect(cover(el).hidden).toBe(false);
    expect([...el.querySelectorAll(".nbs-part")].every((p) => p.hidden)).toBe(true);
    expect(el.querySelector(".nbstream-status").textContent).toMatch(/^Stopped: moderation at 1\.2/);
    expect(el.querySelector(".nbstream-status").title).toBe("flagged: violence");
    cover(el).querySelector("button").click();
    expect([...el.querySelectorAll(".nbs-part")].some((p) => p.hidden)).toBe(false);
    expect(el.querySelector(".nbstream-body").textContent).toContain("flagged answer");
  });
});

describe("safeFragment", () => {
  it("keeps what the renderer makes and drops what could run or escape the box", () => {
    const holder = document.createElement("div");
    holder.append(safeFragment('<p style="text-align:right" onclick="x()">a<script>alert(1)</script>'
      + '<img src="https://e.com/i.png" onerror="x()" alt="i"><a href="javascript:alert(1)">l</a>'
      + '<div style="position:fixed;inset:0">over</div><iframe src="https://e.com"></iframe>'
      + '<input type="checkbox" checked><input type="text" value="v"></p>'));
    const html = holder.innerHTML;
    for (const bad of ["onclick", "onerror", "<script", "javascript:", "position:fixed", "<iframe"]) {
      expect(html).not.toContain(bad);
    }
    expect(holder.querySelector("p").getAttribute("style")).toBe("text-align:right");
    expect(holder.querySelector("img").getAttribute("src")).toBe("https://e.com/i.png");
    expect(holder.querySelectorAll("input")[1].hasAttribute("type")).toBe(false);
    expect(holder.querySelector("input").hasAttribute("disabled")).toBe(true);
  });
});

describe("the header tells what is happening and does not move", () => {
  const setup = () => {
    const { model, el } = rendered({ status: "streaming" });
    model.emit("msg:custom", { type: "snapshot", snapshot: { seq: 0, status: "streaming", parts: [] } });
    return { model, el, label: () => el.querySelector(".nbstream-status").textContent };
  };

  it("says Thinking… only until the answer's text arrives", async () => {
    const { model, label } = setup();
    model.emit("msg:custom", { type: "patch", seq: 1, status: "streaming", metrics: { phase: "in_progress" } });
    await vi.waitFor(() => expect(label()).toBe("Thinking…"));
    model.emit("msg:custom", { type: "patch", seq: 2, status: "streaming", parts: [textOp({ keep: 0, tail: "<p>Hi</p>" })] });
    await vi.waitFor(() => expect(label()).toBe("Streaming"));
    model.emit("msg:custom", { type: "patch", seq: 3, status: "streaming", metrics: { phase: "in_progress" } });
    await vi.waitFor(() => expect(label()).toBe("Streaming"));
  });

  it("keeps Stop's place at the end, so a double click on Stop never toggles Raw", () => {
    const { model, el } = setup();
    const stop = el.querySelector(".nbstream-stop");
    model.set("status", "done");
    expect(stop.hidden).toBe(false);
    expect(stop.classList.contains("nbs-gone")).toBe(true);
    expect(stop.disabled).toBe(true);
  });

  it("an error with no answer shows no empty box and no token count", async () => {
    const { model, el } = setup();
    model.emit("msg:custom", { type: "patch", seq: 1, status: "error", error: "HTTP 401",
      metrics: { output_tokens: 0, output_tokens_estimated: true } });
    model.set("status", "error");
    await vi.waitFor(() => expect(el.querySelector(".nbstream-error").textContent).toBe("HTTP 401"));
    expect(el.querySelector(".nbstream").hasAttribute("data-empty")).toBe(true);
    expect(el.querySelector(".nbstream-metrics").textContent).not.toContain("tokens");
  });

  it("a very long model name is cut in the header, and shown whole on hover", async () => {
    const { model, el } = setup();
    const name = "m".repeat(3000);
    model.emit("msg:custom", { type: "patch", seq: 1, status: "streaming", metrics: { model: name } });
    await vi.waitFor(() => expect(el.querySelector(".nbstream-model").title).toBe(name));
  });
});

describe("patches made by the kernel (tests/make_page_fixture.py)", () => {
  it("rebuild, with the page's own code, exactly what the kernel says the page shows", async () => {
    const { readFileSync } = await import("node:fs");
    const { resolve } = await import("node:path");
    const path = resolve(process.cwd(), "tests/fixtures/kernel_patches.json"); // npm test runs in js/
    const cases = JSON.parse(readFileSync(path, "utf8"));
    expect(cases.length).toBeGreaterThan(20);
    for (const { chunks, patches, expected } of cases) {
      const view = new StreamView(document.createElement("div"));
      patches.forEach((ops, i) => {
        expect(view.applyPatch({ type: "patch", seq: i + 1, status: "streaming", parts: ops }), chunks.join("|")).toBe("applied");
        const part = view.parts.get(0);
        expect(part.blockHtml.join("") + part.shownTail, chunks.join("|")).toBe(expected[i]);
      });
    }
  });
});
