// The page's shared frame (every view's writes, then every view's reads) and shared clock.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { makeFrame } from "../src/frame.js";
import { makeInbox } from "../src/inbox.js";
import { afterWrites, cancel, everyTick, stopTicking, TICK_MS, write, WRITE_BUDGET_MS }
  from "../src/scheduler.js";

/** Frames that run only when the test says so. */
function manualFrames() {
  /** @type {FrameRequestCallback[]} */
  let pending = [];
  const raf = vi.fn((/** @type {FrameRequestCallback} */ cb) => {
    pending.push(cb);
    return pending.length;
  });
  vi.stubGlobal("requestAnimationFrame", raf);
  return {
    raf,
    /** Run the frames requested so far (not the ones they request). */
    run() {
      const now = pending;
      pending = [];
      for (const cb of now) cb(performance.now());
    },
    get pending() {
      return pending.length;
    },
  };
}

describe("the shared frame", () => {
  /** @type {ReturnType<typeof manualFrames>} */
  let frames;
  beforeEach(() => {
    frames = manualFrames();
  });
  afterEach(() => {
    frames.run(); // leave nothing pending for the next test
    vi.unstubAllGlobals();
  });

  it("runs every view's writes before any view's reads, in one animation frame", () => {
    /** @type {string[]} */
    const log = [];
    for (const view of ["a", "b", "c"]) {
      write(() => {
        log.push(`apply ${view}`);
        afterWrites(() => log.push(`follow ${view}`));
      });
    }
    expect(frames.raf).toHaveBeenCalledTimes(1);
    expect(log).toEqual([]);
    frames.run();
    expect(log).toEqual(["apply a", "apply b", "apply c", "follow a", "follow b", "follow c"]);
    expect(frames.pending).toBe(0);
  });

  it("runs a job once however often it is asked for, and not at all once cancelled", () => {
    const job = vi.fn();
    const gone = vi.fn();
    write(job);
    write(job);
    afterWrites(gone);
    cancel(gone);
    frames.run();
    expect(job).toHaveBeenCalledTimes(1);
    expect(gone).not.toHaveBeenCalled();
  });

  it("a read asked for before the frame waits for its writes; a write asked for by a write waits for the next frame", () => {
    /** @type {string[]} */
    const log = [];
    afterWrites(() => log.push("read"));
    write(() => {
      log.push("write 1");
      write(() => log.push("write 2"));
    });
    frames.run();
    expect(log).toEqual(["write 1", "read"]);
    expect(frames.pending).toBe(1);
    frames.run();
    expect(log).toEqual(["write 1", "read", "write 2"]);
  });

  it("one job's error does not stop the others", async () => {
    const after = vi.fn();
    const errors = [];
    const onError = (/** @type {any} */ e) => errors.push(e);
    process.on("uncaughtException", onError);
    write(() => {
      throw new Error("boom");
    });
    write(after);
    frames.run();
    expect(after).toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 5));
    process.off("uncaughtException", onError);
    expect(String(errors[0])).toContain("boom");
  });

  it("spreads writes over frames past the budget, the rest first in the next frame, reads after their writes", () => {
    /** @type {string[]} */
    const log = [];
    const busy = () => {
      const until = performance.now() + WRITE_BUDGET_MS + 1;
      while (performance.now() < until);
    };
    write(() => {
      busy();
      log.push("w1");
      afterWrites(() => log.push("r1"));
    });
    write(() => {
      log.push("w2");
      afterWrites(() => log.push("r2"));
    });
    frames.run();
    expect(log).toEqual(["w1", "r1"]);
    write(() => log.push("w3"));
    frames.run();
    expect(log).toEqual(["w1", "r1", "w2", "w3", "r2"]);
  });

  it("an inbox applies in the shared frame, and a view follows the end after every view applied", () => {
    /** @type {string[]} */
    const log = [];
    const views = ["a", "b"].map((name) => {
      const body = document.createElement("div");
      const frame = makeFrame(body);
      Object.defineProperty(body, "scrollHeight", { get: () => {
        log.push(`read ${name}`);
        return 500;
      } });
      Object.defineProperty(body, "clientHeight", { get: () => 100 });
      const inbox = makeInbox({ packed: () => false, unpack: async () => {}, failed: () => {},
        apply: (messages) => {
          log.push(`apply ${name} ${messages.map((m) => m.n).join(",")}`);
          frame.afterUpdate();
        } });
      return { body, inbox };
    });
    views[0].inbox.push({ n: 1 });
    views[1].inbox.push({ n: 1 });
    views[0].inbox.push({ n: 2 });
    expect(frames.raf).toHaveBeenCalledTimes(1);
    frames.run();
    expect(log).toEqual(["apply a 1,2", "apply b 1", "read a", "read b"]);
    expect(views.map((v) => v.body.scrollTop)).toEqual([400, 400]);
  });

  it("a view off screen (its rendering skipped) follows the end once it is shown", () => {
    const host = document.createElement("div");
    const body = document.createElement("div");
    host.append(body);
    let reads = 0;
    Object.defineProperty(body, "scrollHeight", { get: () => (reads++, 300) });
    Object.defineProperty(body, "clientHeight", { get: () => 100 });
    const frame = makeFrame(body, host);
    const skip = (skipped) => host.dispatchEvent(Object.assign(new Event("contentvisibilityautostatechange"), { skipped }));
    skip(true);
    frame.afterUpdate();
    frames.run();
    expect(reads).toBe(0);
    expect(body.scrollTop).toBe(0);
    skip(false);
    frames.run();
    expect(body.scrollTop).toBe(200);
  });
});

describe("the shared clock", () => {
  afterEach(() => vi.useRealTimers());

  it("one timer ticks every running view, and stops when none is left", () => {
    vi.useFakeTimers();
    const a = vi.fn();
    const b = vi.fn();
    everyTick(a);
    everyTick(b);
    everyTick(a);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(TICK_MS * 3);
    expect(a).toHaveBeenCalledTimes(3);
    expect(b).toHaveBeenCalledTimes(3);
    stopTicking(a);
    vi.advanceTimersByTime(TICK_MS);
    expect(a).toHaveBeenCalledTimes(3);
    expect(b).toHaveBeenCalledTimes(4);
    stopTicking(b);
    expect(vi.getTimerCount()).toBe(0);
  });
});
