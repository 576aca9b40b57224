import { describe, expect, it, vi } from "vitest";
import { deflated, on, rendered, settle, textOp } from "./helpers.js";

const label = (i) => `model=m${i} · temperature=0.${i}`;
const gridState = (n, extra = {}) => ({
  _kind: "grid", _key: "g1", title: "sweep", status: "streaming", _columns: ["model", "temperature"],
  _panes: Array.from({ length: n }, (_, i) => ({ label: label(i), params: { model: `m${i}` },
    queued: false, can_rerun: true })),
  ...extra,
});
const patch = (seq, tail, extra = {}) => ({ type: "patch", seq, status: "streaming",
  parts: [textOp({ keep: 0, tail: `<p>${tail}</p>` })], ...extra });
const final = (text, metrics = {}, status = "done") => ({ type: "snapshot", final: true, snapshot: {
  seq: 9, status, metrics, parts: [{ id: 0, kind: "text", choice: 0, info: {}, done: true,
    blocks: [`<p>${text}</p>`], tail: "" }] } });
const paneEl = (el, i) => el.querySelector(`.nbs-pane[data-pane="${i}"]`);
const paneText = (el, i) => paneEl(el, i).querySelector(".nbstream-body").textContent;
const rowOrder = (el) => [...el.querySelectorAll(".nbs-summary tbody tr")].map((tr) => Number(tr.dataset.pane));

describe("a grid of panes", () => {
  it("sends one hello for the whole grid, then routes each pane's share of a frame", async () => {
    const { model, el, cleanup } = rendered(gridState(3));
    expect(el.querySelectorAll(".nbs-pane .nbstream").length).toBe(3);
    expect(model.sent).toEqual([{ type: "hello" }]);
    model.emit("msg:custom", { type: "frame", panes: { 0: [patch(1, "zero")], 2: [patch(1, "two")] } });
    await vi.waitFor(() => expect(paneText(el, 2)).toBe("two"));
    expect(paneText(el, 0)).toBe("zero");
    expect(paneText(el, 1)).toBe("");
    expect(paneEl(el, 0).querySelector(".nbstream-title").textContent).toBe(label(0));
    // Deflated frames, in order with plain ones.
    const packed = await deflated({ 1: [patch(1, "one")], 0: [{ type: "patch", seq: 2, status: "streaming",
      parts: [on("<p>zero</p>", { id: 0, keep: 7, tail: "!</p>" })] }] });
    model.emit("msg:custom", { type: "frame", z: 1 }, [packed]);
    model.emit("msg:custom", { type: "frame", panes: { 1: [{ type: "patch", seq: 2, status: "streaming",
      parts: [on("<p>one</p>", { id: 0, keep: 6, tail: "!</p>" })] }] } });
    await vi.waitFor(() => expect(paneText(el, 1)).toBe("one!"));
    expect(paneText(el, 0)).toBe("zero!");
    expect(model.sent.filter((m) => m.type === "hello")).toEqual([{ type: "hello" }]);
    cleanup();
  });

  it("shows labels, titles and notices as text", async () => {
    const evil = '<img src=x onerror="alert(1)">';
    const { model, el, cleanup } = rendered(gridState(2, { title: evil,
      _panes: [{ label: evil, params: {}, queued: false, can_rerun: false },
        { label: "b", params: {}, queued: true, can_rerun: false }] }));
    model.emit("msg:custom", { type: "frame", panes: { 0: [{ type: "notice", text: evil }] } });
    await settle();
    expect(el.querySelector("img")).toBe(null);
    expect(el.querySelector(".nbs-grid-header .nbstream-title").textContent).toBe(evil);
    expect(paneEl(el, 0).querySelector(".nbstream-notice").textContent).toBe(evil);
    expect(paneEl(el, 1).querySelector(".nbstream-status").textContent).toBe("Queued");
    model.emit("msg:custom", { type: "frame", panes: { 0: [{ type: "notice", text: null }],
      1: [{ type: "queue", state: "started" }] } });
    await settle();
    expect(paneEl(el, 0).querySelector(".nbstream-notice").hidden).toBe(true);
    expect(paneEl(el, 1).querySelector(".nbstream-status").textContent).toBe("Waiting for the model…");
    cleanup();
  });

  it("Stop all, a pane's Stop, Re-run all and a pane's ↻ send the right messages", async () => {
    const { model, el, cleanup } = rendered(gridState(2));
    model.emit("msg:custom", { type: "frame", panes: { 0: [patch(1, "a")], 1: [patch(1, "b")] } });
    await settle();
    el.querySelector(".nbs-stop-all").click();
    expect(model.sent.at(-1)).toEqual({ type: "stop" });
    paneEl(el, 1).querySelector(".nbstream-stop").click();
    expect(model.sent.at(-1)).toEqual({ type: "stop", pane: 1 });
    await vi.waitFor(() => expect(el.querySelector(".nbs-rerun-all").hidden).toBe(false));
    el.querySelector(".nbs-rerun-all").click();
    expect(model.sent.at(-1)).toEqual({ type: "rerun" });
    paneEl(el, 0).querySelector(".nbstream-rerun").click();
    expect(model.sent.at(-1)).toEqual({ type: "rerun", pane: 0 });
    cleanup();
  });

  it("a re-run pane gets its attempts and starts over", async () => {
    const { model, el, cleanup } = rendered(gridState(2));
    model.emit("msg:custom", { type: "frame", panes: { 0: [final("first", { output_tokens: 3 })] } });
    await vi.waitFor(() => expect(paneText(el, 0)).toBe("first"));
    const attempts = [{ status: "done", stop_reason: null, snapshot: final("first").snapshot }];
    model.emit("msg:custom", { type: "frame", panes: { 0: [{ type: "attempts", attempts, can_rerun: true },
      patch(1, "second", { attempt: 1 })] } });
    await vi.waitFor(() => expect(paneText(el, 0)).toBe("second"));
    expect(paneEl(el, 0).querySelector(".nbstream-attempt").textContent).toBe("2/2");
    expect(paneEl(el, 0).querySelector(".nbstream").dataset.status).toBe("streaming");
    cleanup();
  });
});

describe("the summary table", () => {
  it("follows each pane's metrics and sorts by any column, both ways", async () => {
    const { model, el, cleanup } = rendered(gridState(3));
    model.emit("msg:custom", { type: "frame", panes: {
      0: [final("a", { tokens_per_s: 20, ttft_s: 0.5, output_tokens: 10, cost_usd: 0.25, cost_estimated: true })],
      1: [final("b", { tokens_per_s: 50, ttft_s: 0.2, output_tokens: 30, finish_reason: "stop" })],
      2: [patch(1, "c", { metrics: { tokens_per_s: 35 } })] } });
    const cell = (i, col) => el.querySelector(`.nbs-summary tr[data-pane="${i}"]`).children[col].textContent;
    await vi.waitFor(() => expect(cell(1, 4)).toBe("50")); // checkbox, label, status, TTFT, tok/s ...
    expect(cell(0, 8)).toBe("≈ $0.25");
    expect(cell(1, 7)).toBe("stop");
    expect(cell(0, 2)).toBe("Done");
    expect(el.querySelector(".nbs-counts-line").textContent).toBe("1 streaming · 2 done");
    const th = el.querySelector('.nbs-summary th[data-key="tps"]');
    const rows = [...el.querySelectorAll(".nbs-summary tbody tr")];
    th.querySelector("button").click();
    expect(rowOrder(el)).toEqual([0, 2, 1]);
    expect(th.getAttribute("aria-sort")).toBe("ascending");
    th.querySelector("button").click();
    expect(rowOrder(el)).toEqual([1, 2, 0]);
    expect(th.getAttribute("aria-sort")).toBe("descending");
    expect(el.querySelector('.nbs-summary th[data-key="ttft"]').getAttribute("aria-sort")).toBe("none");
    expect(rows.every((tr) => tr.isConnected)).toBe(true); // moved, not re-created
    cleanup();
  });

  it("above 12 panes, finished ones fold into their rows and open on click", async () => {
    const { model, el, cleanup } = rendered(gridState(13));
    const panes = {};
    for (let i = 0; i < 12; i++) panes[i] = [final(`answer ${i}`)];
    panes[12] = [patch(1, "live")];
    model.emit("msg:custom", { type: "frame", panes });
    await vi.waitFor(() => expect(paneEl(el, 0).hidden).toBe(true));
    expect(paneEl(el, 12).hidden).toBe(false);
    const row = el.querySelector('.nbs-summary tr[data-pane="3"]');
    row.querySelector(".nbs-row-label").click();
    expect(paneEl(el, 3).hidden).toBe(false);
    expect(paneText(el, 3)).toBe("answer 3");
    const fold = row.querySelector(".nbs-fold");
    expect(fold.getAttribute("aria-expanded")).toBe("true");
    fold.click();
    expect(paneEl(el, 3).hidden).toBe(true);
    expect(fold.getAttribute("aria-expanded")).toBe("false");
    cleanup();
  });

  it("with 12 panes or fewer, every pane stays a card", async () => {
    const { model, el, cleanup } = rendered(gridState(12));
    const panes = {};
    for (let i = 0; i < 12; i++) panes[i] = [final(`answer ${i}`)];
    model.emit("msg:custom", { type: "frame", panes });
    await vi.waitFor(() => expect(el.querySelector(".nbs-counts-line").textContent).toBe("12 done"));
    expect([...el.querySelectorAll(".nbs-pane")].some((card) => card.hidden)).toBe(false);
    expect([...el.querySelectorAll(".nbs-fold")].every((b) => b.hidden)).toBe(true);
    cleanup();
  });
});

describe("the diff of two panes", () => {
  it("is asked for two picked panes and shows the ops as text", async () => {
    const { model, el, cleanup } = rendered(gridState(3));
    const diffButton = el.querySelector(".nbs-diff-button");
    expect(diffButton.disabled).toBe(true);
    const picks = [...el.querySelectorAll('.nbs-summary input[type="checkbox"]')];
    for (const i of [0, 2]) {
      picks[i].checked = true;
      picks[i].dispatchEvent(new Event("change"));
    }
    expect(diffButton.disabled).toBe(false);
    diffButton.click();
    expect(model.sent.at(-1)).toEqual({ type: "diff", a: 0, b: 2 });
    model.emit("msg:custom", { type: "diff", a: 0, b: 2, ops: [["=", "same "], ["-", "<b>old</b> "],
      ["+", '<img src=x onerror="alert(1)"> '], ["=", "end"]] });
    const box = el.querySelector(".nbs-diff");
    await vi.waitFor(() => expect(box.querySelector(".nbs-diff-text del")).not.toBe(null));
    expect(box.hidden).toBe(false);
    expect(box.querySelector(".nbs-diff-labels").textContent).toBe(`${label(0)} → ${label(2)}`);
    expect(box.querySelector(".nbs-diff-text del").textContent).toBe("<b>old</b> ");
    expect(box.querySelector(".nbs-diff-text ins").textContent).toBe('<img src=x onerror="alert(1)"> ');
    expect(box.querySelector(".nbs-diff-text").textContent).toBe('same <b>old</b> <img src=x onerror="alert(1)"> end');
    expect(box.querySelector("img, b")).toBe(null);
    box.querySelector(".nbs-diff-close").click();
    expect(box.hidden).toBe(true);
    model.emit("msg:custom", { type: "diff", a: 0, b: 2, error: "late" });
    await settle();
    expect(box.hidden).toBe(true);
    cleanup();
  });
});

describe("a grid that has ended", () => {
  it("shows every pane from the deflated `_snapshot`, asking nothing", async () => {
    const panes = [0, 1].map((i) => ({ status: i ? "stopped" : "done", attempt: i, attempts: i
      ? [{ status: "done", stop_reason: null, snapshot: final("before").snapshot }] : [],
      snapshot: { ...final(`saved ${i}`).snapshot, status: i ? "stopped" : "done" } }));
    const { model, el, cleanup } = rendered(gridState(2, { status: "stopped",
      _snapshot: await deflated({ panes }) }));
    await vi.waitFor(() => expect(paneText(el, 1)).toBe("saved 1"));
    expect(paneText(el, 0)).toBe("saved 0");
    expect(paneEl(el, 1).querySelector(".nbstream").dataset.status).toBe("stopped");
    expect(paneEl(el, 1).querySelector(".nbstream-attempt").textContent).toBe("2/2");
    expect(el.querySelector(".nbstream-grid").dataset.status).toBe("stopped");
    expect(model.sent).toEqual([]);
    cleanup();
  });
});
