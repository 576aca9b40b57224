import { describe, expect, it, vi } from "vitest";
import widget, { StreamView, formatMetrics } from "../src/widget.js";

/** A minimal anywidget model: local attributes, event listeners, and sent messages. */
function fakeModel(state = {}) {
  const attrs = { status: "pending", snapshot: {}, ...state };
  const listeners = new Map();
  return {
    sent: [],
    get: (key) => attrs[key],
    set: (key, value) => {
      attrs[key] = value;
      for (const cb of listeners.get(`change:${key}`) || []) cb();
    },
    on: (event, cb) => listeners.set(event, [...(listeners.get(event) || []), cb]),
    off: (event, cb) =>
      listeners.set(event, cb ? (listeners.get(event) || []).filter((x) => x !== cb) : []),
    send(msg) {
      this.sent.push(msg);
    },
    emit(event, payload) {
      for (const cb of listeners.get(event) || []) cb(payload);
    },
  };
}

const textOp = (extra) => ({ id: 0, kind: "text", choice: 0, info: {}, done: false, ...extra });

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
    view.applyPatch({ type: "patch", seq: 2, status: "streaming", parts: [{ id: 0, keep: 8, tail: " world</p>" }] });
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
    expect(view.applyPatch({ type: "patch", seq: 5, status: "streaming", parts: [{ id: 0, keep: 6, tail: "ee</p>" }] })).toBe("applied");
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
    view.applyPatch({ type: "patch", seq: 2, status: "done", parts: [{ id: 1, info: { name: "get_weather" }, done: true, keep: 39, text: '"}' }] });
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
    vi.stubGlobal("requestAnimationFrame", (cb) => setTimeout(cb, 0));
    vi.stubGlobal("cancelAnimationFrame", (id) => clearTimeout(id));
    const model = fakeModel({ status: "streaming" });
    const el = document.createElement("div");
    const cleanup = widget.render({ model, el });
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
    expect(stop.hidden).toBe(true);
    expect(model.get("snapshot").seq).toBe(4);
    cleanup();
  });

  it("a gap triggers one hello", async () => {
    vi.stubGlobal("requestAnimationFrame", (cb) => setTimeout(cb, 0));
    const model = fakeModel({ status: "done", snapshot: { seq: 1, status: "done", parts: [] } });
    const el = document.createElement("div");
    widget.render({ model, el });
    expect(model.sent).toEqual([]);
    model.emit("msg:custom", { type: "patch", seq: 5, status: "streaming", parts: [] });
    model.emit("msg:custom", { type: "patch", seq: 6, status: "streaming", parts: [] });
    await new Promise((r) => setTimeout(r, 5));
    expect(model.sent).toEqual([{ type: "hello" }]);
  });
});

describe("formatMetrics", () => {
  it("formats what it has", () => {
    expect(formatMetrics({ output_tokens: 12, output_tokens_estimated: true, tokens_per_s: 40.5, ttft_s: 0.5, duration_s: 1.25 }))
      .toBe("~12 tokens · 40.5 tok/s · first token 0.50 s · 1.3 s");
    expect(formatMetrics(undefined)).toBe("");
  });
});
