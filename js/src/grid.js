// A grid of streams (`nbstream.compare`): one widget, one comm, N panes. Each pane is a stream
// view built by the same code as a widget's (stream_widget.js) on a PaneModel fed from the
// grid's frames. Above the panes: the grid's header (live counts, Stop all, Re-run all, Diff),
// the diff of two picked panes and the live summary table.
//
// Traits: `_kind` ("grid"), `_key`, `title`, `status` (final only at the end of the grid),
// `_columns`, `_panes` ([{label, params, queued, can_rerun}]), `_snapshot` (deflated
// {panes: [{status, snapshot, attempts, attempt}]}, set when every pane has ended).
// Kernel -> page: {type: "frame", panes: {"<i>": [pane messages]}} (or `z: 1` and the panes
// deflated in buffers[0]), {type: "diff", a, b, ops | error}. Pane messages: a widget's patch,
// snapshot (`final: true` ends the pane) and source, {type: "queue", state}, {type: "notice",
// text}, {type: "attempts", attempts, can_rerun}.
// Page -> kernel: {type: "hello"} (every pane's snapshot), {type: "stop"}, {type: "rerun"} (all),
// a pane's own (stop, rerun, source, hello) with `pane: i`, {type: "diff", a, b}, {type: "gone"}.
import { NOT_TYPESET, button, h, setText } from "./dom.js";
import { makeDiffView } from "./diff_view.js";
import { FINAL, statusLabel } from "./format.js";
import { SummaryTable } from "./grid_table.js";
import { makeInbox } from "./inbox.js";
import { inflateJson } from "./inflate.js";
import { PaneModel } from "./pane_model.js";
import { build } from "./stream_widget.js";

/** Above this many panes, finished ones fold into their table rows. */
export const FOLD_ABOVE = 12;
/** The table and the counts are refreshed at most this often (ms). */
const REFRESH_MS = 250;
const COUNT_ORDER = [["streaming", "streaming"], ["pending", "waiting"], ["queued", "queued"],
  ["done", "done"], ["stopped", "stopped"], ["error", "failed"]];

/**
 * @typedef {{index: number, label: string, status: string, metrics: Record<string, any>,
 *   attempt: number, open: boolean, model: PaneModel, card: HTMLElement,
 *   instance: import("./stream_widget.js").Instance}} Pane
 */

/** The attempt a message belongs to (absent: the first). @param {any} msg */
const attemptOf = (msg) => Number(msg.attempt ?? msg.snapshot?.attempt ?? 0) || 0;

export class GridView {
  /** @param {import("./stream_widget.js").ViewModel} model @param {HTMLElement} el */
  constructor(model, el) {
    this.model = model;
    this.root = h("div", `nbstream-grid ${NOT_TYPESET}`);
    this.root.tabIndex = -1;
    this.makeHeader();
    this.diff = makeDiffView(() => (this.diffWanted = null));
    /** @type {[number, number] | null} */
    this.diffWanted = null;
    this.table = new SummaryTable({
      open: (i) => this.open(i),
      fold: (i) => this.toggle(i),
      picked: () => this.showPicked(),
      sorted: () => this.refresh(),
    });
    this.box = h("div", "nbs-panes");
    this.root.append(this.header, this.diff.el, this.table.el, this.box);
    el.append(this.root);
    /** @type {Pane[]} */
    this.panes = [];
    this.waitingWhole = false;
    this.timers = { refresh: 0, hello: 0 };
    this.inbox = makeInbox({
      packed: (msg) => Boolean(msg.z || msg.deflated),
      unpack: async (msg, packed) => {
        if (msg.z) msg.panes = await inflateJson(packed);
        if (msg.deflated) msg.snapshot = await inflateJson(packed);
      },
      apply: (messages) => messages.forEach((msg) => this.route(msg)),
      failed: () => this.askWhole(),
      frames: false,
    });
  }

  makeHeader() {
    this.header = h("div", "nbstream-header nbs-grid-header");
    this.dot = h("span", "nbs-grid-dot");
    this.title = h("span", "nbstream-title");
    this.counts = h("span", "nbs-counts-line");
    this.counts.setAttribute("role", "status");
    this.diffButton = button("nbstream-action nbs-diff-button", "Diff",
      { title: "Word diff of the two panes picked in the table" });
    this.diffButton.disabled = true;
    this.rerunAll = button("nbstream-action nbs-rerun-all", "↻ Re-run all",
      { title: "Run every pane's request again" });
    this.stopAll = button("nbstream-stop nbs-stop-all", "Stop all",
      { title: "Stop every pane (closes their connections)", label: "Stop all panes" });
    this.header.append(this.dot, this.title, this.counts, h("span", "nbstream-spacer"),
      this.diffButton, this.rerunAll, this.stopAll);
    this.diffButton.addEventListener("click", () => this.askDiff());
    this.rerunAll.addEventListener("click", () => this.model.send({ type: "rerun" }));
    this.stopAll.addEventListener("click", () => this.model.send({ type: "stop" }));
  }

  /** The panes, from `_panes` (made once). */
  makePanes() {
    const specs = /** @type {any[]} */ (this.model.get("_panes") || []);
    this.panes = specs.map((spec, index) => {
      const status = spec.queued ? "queued" : "pending";
      const model = new PaneModel(index, (msg) => this.sendFor(index, msg), {
        title: String(spec.label ?? `pane ${index + 1}`), status, _can_rerun: Boolean(spec.can_rerun),
        _attempts: [], _notice: null });
      const card = h("div", "nbs-pane");
      card.dataset.pane = String(index);
      this.box.append(card);
      const instance = build({ model, el: card });
      return { index, label: model.get("title"), status, metrics: {}, attempt: 0, open: false,
        model, card, instance };
    });
    this.table.setRows(this.rows());
  }

  /** A pane's message to the kernel (its hellos wait while the grid's own is answered).
   * @param {number} index @param {any} msg */
  sendFor(index, msg) {
    if (msg.type === "hello" && (this.waitingWhole || this.panes[index]?.status === "queued")) return;
    this.model.send(msg);
  }

  /** The grid's status: the trait once final, else what the panes do. */
  status() {
    const trait = this.model.get("status") || "pending";
    if (FINAL.has(trait)) return trait;
    return this.panes.some((p) => p.status === "streaming") ? "streaming" : "pending";
  }

  /** Ask for every pane's state until a frame arrives (a hello can be lost). */
  askWhole() {
    let tries = 0;
    this.waitingWhole = true;
    const ask = () => {
      this.timers.hello = 0;
      if (!this.waitingWhole || tries++ >= 6) return;
      this.model.send({ type: "hello" });
      this.timers.hello = window.setTimeout(ask, 1500);
    };
    if (!this.timers.hello) ask();
  }

  /** @param {any} msg */
  route(msg) {
    if (msg.type === "diff") return this.showDiff(msg);
    if (msg.type === "snapshot") return this.restore(msg.snapshot);
    if (msg.type !== "frame") return;
    this.waitingWhole = false;
    for (const [key, messages] of Object.entries(msg.panes || {})) {
      const pane = this.panes[Number(key)];
      if (pane && Array.isArray(messages)) for (const one of messages) this.toPane(pane, one);
    }
    this.scheduleRefresh();
  }

  /** @param {Pane} pane @param {any} msg */
  toPane(pane, msg) {
    const { model } = pane;
    if (msg.type === "patch" || msg.type === "snapshot") {
      if (!this.track(pane, msg)) return;
    } else if (msg.type === "queue") {
      if (msg.state === "queued") pane.status = "queued";
      else if (pane.status === "queued") pane.status = "pending";
      if (!FINAL.has(model.get("status"))) model.set("status", pane.status === "queued" ? "queued" : "pending");
      return;
    } else if (msg.type === "notice") {
      return model.set("_notice", msg.text ?? null);
    } else if (msg.type === "attempts") {
      model.set("_can_rerun", Boolean(msg.can_rerun));
      return model.set("_attempts", Array.isArray(msg.attempts) ? msg.attempts : []);
    }
    model.deliver(msg);
  }

  /** Follow a pane's status and metrics (for the table); false for an older attempt's.
   * @param {Pane} pane @param {any} msg */
  track(pane, msg) {
    const attempt = attemptOf(msg);
    if (attempt < pane.attempt) return false;
    if (attempt > pane.attempt) {
      pane.attempt = attempt;
      pane.metrics = {};
      pane.model.set("status", "pending");
    }
    const status = msg.type === "snapshot" ? msg.snapshot?.status : msg.status;
    const metrics = msg.type === "snapshot" ? msg.snapshot?.metrics : msg.metrics;
    if (metrics) pane.metrics = metrics;
    if (status) pane.status = status;
    if (FINAL.has(status) && (msg.type === "snapshot" || msg.final)) pane.model.set("status", status);
    return true;
  }

  /** The grid's final state (`_snapshot`): every pane's. @param {any} state */
  restore(state) {
    this.waitingWhole = false;
    (state?.panes || []).forEach((/** @type {any} */ entry, /** @type {number} */ i) => {
      const pane = this.panes[i];
      if (!pane || !entry) return;
      pane.model.set("_attempts", Array.isArray(entry.attempts) ? entry.attempts : []);
      const attempt = entry.attempt || 0;
      if (entry.snapshot) this.toPane(pane, { type: "snapshot", final: true, attempt,
        snapshot: { ...entry.snapshot, attempt, status: entry.snapshot.status || entry.status } });
      if (FINAL.has(entry.status)) {
        pane.status = entry.status;
        pane.model.set("status", entry.status);
      }
    });
    this.refresh();
  }

  /** @returns {import("./grid_table.js").PaneRow[]} */
  rows() {
    const folding = this.panes.length > FOLD_ABOVE;
    return this.panes.map((pane) => {
      const foldable = folding && FINAL.has(pane.status);
      return { index: pane.index, label: pane.label, status: pane.status, metrics: pane.metrics,
        statusText: statusLabel(pane.status, pane.metrics, true), foldable,
        folded: foldable && !pane.open };
    });
  }

  scheduleRefresh() {
    if (!this.timers.refresh) this.timers.refresh = window.setTimeout(() => this.refresh(), REFRESH_MS);
  }

  /** The table, the counts, the folded cards and the header's buttons, as they are now. */
  refresh() {
    if (this.timers.refresh) clearTimeout(this.timers.refresh);
    this.timers.refresh = 0;
    const rows = this.rows();
    this.table.update(rows);
    for (const row of rows) {
      const { card } = this.panes[row.index];
      if (card.hidden !== row.folded) card.hidden = row.folded;
    }
    const tally = new Map();
    for (const pane of this.panes) tally.set(pane.status, (tally.get(pane.status) || 0) + 1);
    setText(this.counts, COUNT_ORDER.filter(([status]) => tally.get(status))
      .map(([status, word]) => `${tally.get(status)} ${word}`).join(" · "));
    const status = this.status();
    if (this.root.dataset.status !== status) this.root.dataset.status = status;
    this.stopAll.disabled = FINAL.has(status) || this.panes.every((p) => FINAL.has(p.status));
    this.rerunAll.hidden = !this.panes.some((p) => p.model.get("_can_rerun"));
    this.root.toggleAttribute("data-folding", this.panes.length > FOLD_ABOVE);
  }

  /** Go to a pane (opening it if it is folded). @param {number} index */
  open(index) {
    const pane = this.panes[index];
    if (!pane) return;
    pane.open = true;
    this.refresh();
    pane.card.scrollIntoView?.({ block: "nearest" });
    pane.instance.root.focus?.({ preventScroll: true });
  }

  /** Fold or unfold a finished pane (with more than FOLD_ABOVE panes). @param {number} index */
  toggle(index) {
    const pane = this.panes[index];
    if (!pane) return;
    pane.open = !pane.open;
    this.refresh();
  }

  showPicked() {
    this.diffButton.disabled = this.table.picked().length !== 2;
  }

  askDiff() {
    const picked = this.table.picked();
    if (picked.length !== 2) return;
    const [a, b] = picked;
    this.diffWanted = [a, b];
    this.diff.show(this.panes[a].label, this.panes[b].label);
    this.model.send({ type: "diff", a, b });
  }

  /** @param {any} msg */
  showDiff(msg) {
    const wanted = this.diffWanted;
    if (wanted && wanted[0] === msg.a && wanted[1] === msg.b) this.diff.fill(msg);
  }

  showTitle() {
    this.title.textContent = String(this.model.get("title") || "");
    this.title.title = this.title.textContent;
    this.title.hidden = !this.title.textContent;
  }

  /** The final state from the trait, in order with the frames. */
  onSnapshot() {
    const packed = this.model.get("_snapshot");
    if (packed && packed.byteLength) this.inbox.push({ type: "snapshot", deflated: true }, [packed]);
  }

  /** Start: show what the model holds, listen to it; returns the teardown. */
  start() {
    const { model } = this;
    /** @type {[string, Function][]} */
    const listeners = [
      ["msg:custom", (/** @type {any} */ msg, /** @type {DataView[]} */ buffers) => {
        if (msg && (msg.type === "frame" || msg.type === "diff")) this.inbox.push(msg, buffers);
      }],
      ["change:status", () => this.refresh()],
      ["change:_snapshot", () => this.onSnapshot()],
      ["change:title", () => this.showTitle()],
    ];
    this.showTitle();
    // Before the panes are made: their hellos wait for the grid's own, or for `_snapshot`.
    if (!FINAL.has(model.get("status"))) this.askWhole();
    else this.waitingWhole = true;
    this.makePanes();
    this.onSnapshot();
    this.refresh();
    for (const [name, cb] of listeners) model.on(name, cb);
    return () => {
      for (const id of Object.values(this.timers)) if (id) clearTimeout(id);
      for (const [name, cb] of listeners) model.off(name, cb);
      for (const pane of this.panes) pane.instance.teardown();
    };
  }
}

/**
 * Build a grid's DOM and wire it to the model.
 * @param {{model: import("./stream_widget.js").ViewModel, el: HTMLElement}} context
 * @returns {import("./stream_widget.js").Instance}
 */
export function buildGrid({ model, el }) {
  const grid = new GridView(model, el);
  const teardown = grid.start();
  return { root: grid.root, el, body: grid.box, scrollTop: 0, following: () => false,
    selection: null, teardown };
}
