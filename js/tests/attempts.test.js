import { describe, expect, it, vi } from "vitest";
import { deflated, on, rendered, settle, textOp } from "./helpers.js";

const snap = (text, extra = {}) => ({ seq: 3, status: "done", parts: [{ id: 0, kind: "text", choice: 0,
  info: {}, done: true, blocks: [`<p>${text}</p>`], tail: "" }], ...extra });
/** The body the reader sees (the live one is hidden by CSS while an earlier attempt shows). */
const body = (el) => {
  const browsing = el.querySelector(".nbstream").hasAttribute("data-browsing");
  return el.querySelector(browsing ? ".nbstream-body:not(.nbs-live)" : ".nbstream-body.nbs-live").textContent;
};

describe("re-run: attempts of the same request", () => {
  it("shows ↻ when the kernel can re-run, and sends a rerun", async () => {
    const { model, el, cleanup } = rendered({ status: "done", _can_rerun: false });
    const rerun = el.querySelector(".nbstream-rerun");
    expect(rerun.hidden).toBe(true);
    model.set("_can_rerun", true);
    expect(rerun.hidden).toBe(false);
    expect(rerun.title).toBe("Run the same request again");
    expect(rerun.getAttribute("aria-label")).toBe("Run the same request again");
    rerun.click();
    expect(model.sent).toEqual([{ type: "rerun" }]);
    cleanup();
  });

  it("a newer attempt starts the view over; sequence numbers restart at 1", async () => {
    const { model, el, cleanup } = rendered({ status: "done", _snapshot: await deflated(snap("first")) });
    await vi.waitFor(() => expect(body(el)).toBe("first"));
    const root = el.querySelector(".nbstream");
    expect(root.dataset.status).toBe("done");
    model.emit("msg:custom", { type: "patch", seq: 1, attempt: 1, status: "streaming",
      parts: [textOp({ keep: 0, tail: "<p>sec</p>" })] });
    await vi.waitFor(() => expect(body(el)).toBe("sec"));
    expect(root.dataset.status).toBe("streaming"); // the trait's "done" was the first attempt's
    expect(el.querySelector(".nbstream-stop").disabled).toBe(false);
    model.emit("msg:custom", { type: "patch", seq: 2, attempt: 1, status: "streaming",
      parts: [on("<p>sec</p>", { id: 0, keep: 6, tail: "ond</p>" })] });
    await vi.waitFor(() => expect(body(el)).toBe("second"));
    expect(model.sent.filter((m) => m.type === "hello")).toEqual([]);
    model.emit("msg:custom", { type: "patch", seq: 3, attempt: 1, status: "done", final: true, parts: [] });
    await vi.waitFor(() => expect(root.dataset.status).toBe("done"));
    cleanup();
  });

  it("ignores an earlier attempt's messages (and its snapshot)", async () => {
    const { model, el, cleanup } = rendered({ status: "streaming" });
    model.emit("msg:custom", { type: "snapshot", attempt: 2, snapshot: { seq: 1, status: "streaming", parts: [
      { id: 0, kind: "text", choice: 0, info: {}, done: false, blocks: [], tail: "<p>third</p>" }] } });
    await vi.waitFor(() => expect(body(el)).toBe("third"));
    model.emit("msg:custom", { type: "patch", seq: 2, attempt: 1, status: "done", final: true,
      parts: [{ id: 0, reset: true, keep: 0, tail: "<p>old</p>" }] });
    model.set("_snapshot", await deflated(snap("old", { attempt: 1 })));
    model.emit("msg:custom", { type: "patch", seq: 2, attempt: 2, status: "streaming",
      parts: [on("<p>third</p>", { id: 0, keep: 8, tail: "!</p>" })] });
    await vi.waitFor(() => expect(body(el)).toBe("third!"));
    await settle();
    expect(body(el)).toBe("third!");
    expect(el.querySelector(".nbstream").dataset.status).toBe("streaming");
    cleanup();
  });
});

describe("the attempts navigator", () => {
  const earlier = [
    { status: "stopped", stop_reason: "user", snapshot: snap("one <b>1</b>", { status: "stopped",
      metrics: { duration_s: 3.14, stopped_after_s: 3.14, output_tokens: 40, model: "gpt-a" } }) },
    { status: "done", stop_reason: null, snapshot: snap("two", { metrics: { duration_s: 2, output_tokens: 12,
      finish_reason: "stop", model: "gpt-b" } }) },
  ];

  it("browses earlier attempts read-only and comes back to the live one", async () => {
    const { model, el, cleanup } = rendered({ status: "streaming", _attempts: await deflated(earlier),
      _can_rerun: true });
    model.emit("msg:custom", { type: "snapshot", attempt: 2, snapshot: { seq: 1, status: "streaming",
      metrics: { output_tokens: 5, model: "gpt-c" }, parts: [
        { id: 0, kind: "text", choice: 0, info: {}, done: false, blocks: [], tail: "<p>live</p>" }] } });
    const nav = el.querySelector(".nbstream-attempts");
    const [prev, next] = nav.querySelectorAll("button");
    const position = nav.querySelector(".nbstream-attempt");
    await vi.waitFor(() => expect(nav.hidden).toBe(false));
    await vi.waitFor(() => expect(body(el)).toBe("live"));
    expect(position.textContent).toBe("3/3");
    expect(prev.getAttribute("aria-label")).toBe("Earlier attempt");
    expect(next.disabled).toBe(true);
    const label = () => el.querySelector(".nbstream-status").textContent;
    const line = () => el.querySelector(".nbstream-metrics").textContent;

    prev.click();
    expect(position.textContent).toBe("2/3");
    expect(body(el)).toBe("two");
    expect(label()).toBe("Done");
    expect(line()).toContain("12 tokens");
    expect(el.querySelector(".nbstream-model").textContent).toBe("gpt-b");
    prev.click();
    expect(position.textContent).toBe("1/3");
    expect(prev.disabled).toBe(true);
    expect(body(el)).toBe("one 1"); // the snapshot's HTML, sanitised like any
    expect(el.querySelector(".nbstream-body b")).toBe(null);
    expect(label()).toBe("Stopped by you at 3.1 s");
    expect(el.querySelector(".nbstream-elapsed").textContent).toBe("3.14 s");

    // The live attempt goes on underneath, undisturbed.
    model.emit("msg:custom", { type: "patch", seq: 2, attempt: 2, status: "streaming",
      parts: [on("<p>live</p>", { id: 0, keep: 7, tail: "r</p>" })] });
    await settle();
    expect(label()).toBe("Stopped by you at 3.1 s");
    expect(el.querySelector(".nbs-live.nbstream-body").textContent).toBe("liver");
    el.querySelector(".nbstream-details").open = true;
    el.querySelector(".nbstream-details").dispatchEvent(new Event("toggle"));
    expect(el.querySelector(".nbs-metrics").textContent).toContain("gpt-a");

    next.click();
    next.click();
    expect(position.textContent).toBe("3/3");
    expect(body(el)).toBe("liver");
    expect(label()).toBe("Streaming");
    expect(el.querySelector(".nbstream-model").textContent).toBe("gpt-c");
    expect(el.querySelector(".nbstream").hasAttribute("data-browsing")).toBe(false);
    expect(el.querySelectorAll(".nbstream-body").length).toBe(1);
    cleanup();
  });

  it("a new list of attempts (a re-run started) shows the live attempt", async () => {
    const { model, el, cleanup } = rendered({ status: "done", _attempts: await deflated(earlier.slice(0, 1)),
      _snapshot: await deflated(snap("now", { attempt: 1 })) });
    const position = el.querySelector(".nbstream-attempt");
    await vi.waitFor(() => expect(position.textContent).toBe("2/2"));
    el.querySelector(".nbstream-attempts button").click();
    expect(position.textContent).toBe("1/2");
    model.set("_attempts", await deflated(earlier));
    await vi.waitFor(() => expect(position.textContent).toBe("3/3"));
    expect(body(el)).toBe("now");
    cleanup();
  });
});
