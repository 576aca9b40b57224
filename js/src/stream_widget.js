// A stream's view: builds the DOM (header, body, footer) and wires it to the model.
//
// State synced with Python: `status` (trait) and `_snapshot` (trait: the final state as
// deflated JSON, set when the stream ends, for views that join later and saved widget state).
// `_can_rerun` (trait) shows ↻; `_attempts` (trait: deflated JSON) lists the earlier attempts.
// Kernel -> page custom messages: {type: "patch", seq, status, parts?, metrics?, error?,
// final?, log?, attempt?}, {type: "snapshot", snapshot, attempt?} and {type: "source", parts:
// {id: text}}. `attempt` (0-based, absent = 0) numbers the request's runs: a newer one starts the
// view over (sequence numbers restart at 1), an older one's messages are ignored.
// Page -> kernel: {type: "stop"}, {type: "hello"} (asks for a snapshot: sent when a view joins
// a running stream or sees a sequence gap), {type: "source"} (the markdown source, on demand)
// and {type: "rerun"} (the same request again).
// Browser-only state (the DOM, the applied sequence number, scroll following) lives here.
// Model output reaches the DOM only as the kernel renderer's escaped HTML or as textContent.
import { wireActions } from "./actions.js";
import { AttemptBrowser } from "./attempts.js";
import { NOT_TYPESET, h, setText } from "./dom.js";
import { fillDetails } from "./details.js";
import { makeFooter, showMetrics } from "./footer.js";
import { FINAL, secs, statusLabel } from "./format.js";
import { makeFrame } from "./frame.js";
import { makeHeader, showModelName, showTitle } from "./header.js";
import { makeInbox } from "./inbox.js";
import { inflateJson } from "./inflate.js";
import { everyTick, stopTicking } from "./scheduler.js";
import { StreamView } from "./stream_view.js";

/**
 * What a view needs of its model: anywidget's model, a durable link to it, or a grid pane.
 * @typedef {{get: (name: string) => any, send: (msg: any) => void,
 *   on: (name: string, cb: Function) => void, off: (name: string, cb: Function) => void}} ViewModel
 */
/**
 * @typedef {{root: HTMLElement, el: HTMLElement, body: HTMLElement, scrollTop: number,
 *   following: () => boolean, selection: [Node, number, Node, number] | null,
 *   teardown: () => void, owner?: object}} Instance
 */

/** The attempt a message belongs to (absent: the first). @param {any} msg */
const attemptOf = (msg) => Number(msg.attempt ?? msg.snapshot?.attempt ?? 0) || 0;

/**
 * The header's clock: elapsed time, running while the stream does (on the page's one shared
 * clock, scheduler.js: a hundred running views, one timer).
 * @param {HTMLElement} elapsed
 * @param {() => boolean} running
 * @param {() => boolean} shown whether the live attempt is shown (else the clock runs unseen)
 */
function makeClock(elapsed, running, shown) {
  let clock = { at: performance.now(), duration: 0 };
  let ticking = false;
  const tick = () => {
    const on = running();
    const seconds = on ? clock.duration + (performance.now() - clock.at) / 1000 : clock.duration;
    if (shown()) {
      setText(elapsed, seconds > 0 ? secs(seconds) : "");
    }
    if (!on && ticking) stop();
  };
  const stop = () => {
    ticking = false;
    stopTicking(tick);
  };
  return {
    tick,
    /** @param {number} duration the kernel's duration, counted on from now */
    set: (duration) => (clock = { at: performance.now(), duration }),
    start: () => {
      if (ticking) return;
      ticking = true;
      everyTick(tick);
    },
    stop,
  };
}

/**
 * Ask the kernel for a snapshot (`hello`). A hello can be lost (e.g. a page reloaded while the
 * kernel routes it to a subshell that is gone): ask again until a snapshot arrives or the
 * stream has ended.
 * @param {ViewModel} model
 * @param {StreamView} view
 */
function snapshotAsker(model, view) {
  let timer = 0;
  const ask = () => {
    if (view.wantsSnapshot) return;
    view.wantsSnapshot = true;
    let tries = 0;
    const send = () => {
      timer = 0;
      if (!view.wantsSnapshot || tries++ >= 6) return;
      model.send({ type: "hello" });
      timer = window.setTimeout(send, 1500);
    };
    send();
  };
  return { ask, cancel: () => timer && clearTimeout(timer) };
}

/** A stream's view: its DOM and how it follows the model. */
class StreamWidget {
  /** @param {ViewModel} model @param {HTMLElement} el */
  constructor(model, el) {
    this.model = model;
    this.root = h("div", `nbstream ${NOT_TYPESET}`);
    this.root.tabIndex = -1;
    this.header = makeHeader();
    this.view = new StreamView(this.root);
    this.frame = makeFrame(this.view.body, this.root);
    this.footer = makeFooter();
    this.root.append(this.header.el, this.view.tabs, this.frame.el, this.view.error, this.footer.el);
    el.append(this.root);
    // The live status comes with every patch (the trait changes once, at the end, in one
    // message with the final snapshot: a hundred streams starting cost no message each).
    this.kernelStatus = "";
    /** The attempt shown live, and whether the status trait's final value is an older one's. */
    this.attempt = 0;
    this.traitStale = false;
    this.clock = makeClock(this.header.elapsed, () => !FINAL.has(this.status()),
      () => !this.browser.browsing);
    this.hello = snapshotAsker(model, this.view);
    this.inbox = makeInbox({
      packed: (msg) => Boolean(msg.z || msg.deflated),
      unpack: async (msg, packed) => {
        if (msg.z) msg.parts = await inflateJson(packed);
        if (msg.deflated) msg.snapshot = await inflateJson(packed);
      },
      apply: (messages) => this.apply(messages),
      failed: () => this.hello.ask(),
    });
    this.actions = wireActions({ model, view: this.view, header: this.header, frame: this.frame,
      root: this.root, status: () => this.status(), pastText: () => this.browser.text() });
    this.browser = new AttemptBrowser({ root: this.root, view: this.view, header: this.header,
      footer: this.footer, leaveRaw: () => this.actions.leaveRaw(), showLive: () => this.showLive() });
    this.view.onMetrics = () => this.showMetrics();
  }

  /** The status shown: the trait once it is final, else the latest patch's. */
  status() {
    const trait = this.model.get("status") || "pending";
    const final = FINAL.has(trait) && !this.traitStale;
    return final || !this.kernelStatus ? trait : this.kernelStatus;
  }

  showTitle() {
    showTitle(this.header, this.model.get("title"));
  }

  showLabel() {
    if (this.browser.browsing) return;
    const { view, header, root } = this;
    const current = this.status();
    const answering = [...view.parts.values()].some((p) => p.kind === "text" && p.hasContent);
    setText(header.label, statusLabel(current, view.metrics, answering));
    const detail = current === "stopped" ? String(view.metrics?.stop_detail || "") : "";
    if (header.label.title !== detail) header.label.title = detail;
    if (view.parts.size || !FINAL.has(current)) delete root.dataset.empty;
    else root.dataset.empty = ""; // an answer that ended with nothing shows no empty box
  }

  showMetrics() {
    const m = this.view.metrics;
    if (m) {
      this.clock.set(m.duration_s || 0);
      if (m.model && !this.browser.browsing) showModelName(this.header, m.model);
    }
    if (!this.browser.browsing) showMetrics(this.footer, m, this.view.log);
    this.showLabel();
    this.clock.tick();
  }

  showStatus() {
    const current = this.status();
    const { stop } = this.header;
    this.root.dataset.status = current;
    const ended = FINAL.has(current);
    stop.disabled = ended;
    stop.classList.toggle("nbs-gone", ended);
    stop.setAttribute("aria-hidden", String(ended));
    if (!ended) this.clock.start();
    this.showLabel();
    this.clock.tick();
  }

  /** The live attempt shown again (the navigator's last position). */
  showLive() {
    showModelName(this.header, this.view.metrics?.model || "");
    this.showMetrics();
  }

  /** A notice from the kernel (a grid pane's `_notice`: "Rate limited (429): retrying ..."). */
  showNotice() {
    const text = this.model.get("_notice");
    this.header.notice.textContent = text ? String(text) : "";
    this.header.notice.title = this.header.notice.textContent;
    this.header.notice.hidden = !text;
  }

  showRerun() {
    this.header.rerun.hidden = !this.model.get("_can_rerun");
  }

  onRerun() {
    const { rerun } = this.header;
    rerun.disabled = true; // one click, one run
    setTimeout(() => (rerun.disabled = false), 1000);
    this.model.send({ type: "rerun" });
  }

  /**
   * A newer attempt of the request started: the view starts over.
   * @param {number} attempt
   * @param {string | undefined} status
   */
  startAttempt(attempt, status) {
    this.attempt = attempt;
    this.view.reset();
    this.kernelStatus = status || "pending";
    this.traitStale = FINAL.has(this.model.get("status"));
    this.clock.set(0);
    this.showStatus();
  }

  /** A frame's messages, in order. @param {any[]} messages */
  apply(messages) {
    const before = this.status();
    for (const msg of messages) {
      const attempt = attemptOf(msg);
      if (attempt < this.attempt) continue; // an earlier attempt's, late
      if (attempt > this.attempt) {
        this.startAttempt(attempt, msg.type === "snapshot" ? msg.snapshot?.status : msg.status);
      }
      if (msg.type === "snapshot") {
        this.view.applySnapshot(msg.snapshot);
        this.kernelStatus = msg.snapshot?.status || this.kernelStatus;
      } else if (msg.type === "patch") {
        const outcome = this.view.applyPatch(msg);
        if (outcome === "gap" || outcome === "mismatch") this.hello.ask();
        this.kernelStatus = msg.status || this.kernelStatus;
      }
    }
    if (this.status() !== before) this.showStatus();
    this.showLabel();
    this.frame.afterUpdate();
  }

  /** @param {any} msg @param {DataView[]} [buffers] */
  onMessage(msg, buffers) {
    if (msg && msg.type === "source") this.actions.receiveSource(msg.parts || {});
    else if (msg && (msg.type === "patch" || msg.type === "snapshot")) this.inbox.push(msg, buffers);
  }

  onDetails() {
    if (!this.footer.details.open) return;
    if (this.browser.browsing) this.browser.fillDetails();
    else fillDetails(this.footer.box, this.view.metrics, this.view.log);
  }

  /** The final state from the trait, in order with the patches (it must not overtake the
   * final patch still waiting for its frame: that would rebuild the DOM). */
  onSnapshot() {
    const packed = this.model.get("_snapshot");
    if (packed && packed.byteLength) this.onMessage({ type: "snapshot", deflated: true }, [packed]);
    else if (packed && packed.seq !== undefined) this.onMessage({ type: "snapshot", snapshot: packed });
  }

  /** Start: show what the model holds, listen to it; returns the teardown. */
  start() {
    const { model } = this;
    /** @type {[string, Function][]} */
    const listeners = [
      ["msg:custom", (/** @type {any} */ msg, /** @type {DataView[]} */ buffers) => this.onMessage(msg, buffers)],
      ["change:status", () => {
        this.traitStale = false;
        this.showStatus();
      }],
      ["change:_snapshot", () => this.onSnapshot()],
      ["change:title", () => this.showTitle()],
      ["change:_can_rerun", () => this.showRerun()],
      ["change:_notice", () => this.showNotice()],
      ["change:_attempts", () => this.browser.load(model.get("_attempts"))],
    ];
    this.showTitle();
    this.showRerun();
    this.showNotice();
    this.browser.load(model.get("_attempts"));
    this.onSnapshot();
    this.showStatus();
    if (!FINAL.has(this.status())) this.hello.ask();
    for (const [name, cb] of listeners) model.on(name, cb);
    this.footer.details.addEventListener("toggle", () => this.onDetails());
    this.header.rerun.addEventListener("click", () => this.onRerun());
    return () => {
      this.inbox.cancel();
      this.frame.teardown();
      this.clock.stop();
      this.hello.cancel();
      this.actions.teardown();
      for (const [name, cb] of listeners) model.off(name, cb);
    };
  }
}

/**
 * Build a view's DOM and wire it to the model.
 * @param {{model: ViewModel, el: HTMLElement}} context
 * @returns {Instance}
 */
export function build({ model, el }) {
  const widget = new StreamWidget(model, el);
  const teardown = widget.start();
  return {
    root: widget.root,
    el,
    body: widget.view.body,
    scrollTop: 0,
    following: widget.frame.following,
    selection: null,
    teardown,
  };
}
