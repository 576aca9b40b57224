// Applies patches and snapshots to a stream's DOM (the body, the choice tabs, the error line).
import { h } from "./dom.js";
import { PartView } from "./part_view.js";

/** @typedef {import("./integrity.js").PartOp} PartOp */
/** @typedef {{type: "patch", seq: number, status: string, parts?: PartOp[],
 *   metrics?: Record<string, any>, error?: string, final?: boolean, log?: any,
 *   attempt?: number}} Patch */
/** @typedef {{seq: number, status: string, error?: string | null, parts: any[],
 *   metrics?: Record<string, any>, log?: any, attempt?: number}} Snapshot */

/**
 * Applies patches and snapshots to a view's DOM. Exported for the JS unit tests.
 */
export class StreamView {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    this.seq = 0;
    /** @type {Map<number, PartView>} */
    this.parts = new Map();
    this.body = h("div", "nbstream-body");
    this.body.setAttribute("aria-live", "polite");
    this.tabs = h("div", "nbs-tabs");
    this.tabs.setAttribute("role", "tablist");
    this.tabs.hidden = true;
    /** @type {Map<number, HTMLElement>} */
    this.panels = new Map();
    this.shownChoice = 0;
    this.error = h("div", "nbstream-error");
    this.error.hidden = true;
    this.wantsSnapshot = false;
    /** @type {Record<string, any> | undefined} */
    this.metrics = undefined;
    this.log = undefined;
    /** @type {(() => void) | null} called when metrics or the log change */
    this.onMetrics = null;
    /** @type {HTMLElement | null} "Hidden by moderation — show", once the kernel hid parts */
    this.cover = null;
    /** The reader asked to see the hidden answer (in this view only). */
    this.revealed = false;
  }

  /** @param {Snapshot} snapshot */
  applySnapshot(snapshot) {
    if (!snapshot || snapshot.seq === undefined || snapshot.seq < this.seq) return false;
    // A view that is already up to date keeps its DOM (committed nodes are never re-created).
    if (snapshot.seq === this.seq && !this.wantsSnapshot && this.parts.size > 0) return false;
    this.clear();
    for (const entry of snapshot.parts || []) this.addPart(PartView.fromSnapshot(entry));
    this.seq = snapshot.seq;
    this.setError(snapshot.error);
    this.metrics = snapshot.metrics;
    if (snapshot.log) this.log = snapshot.log;
    this.wantsSnapshot = false;
    this.afterParts();
    this.onMetrics?.();
    return true;
  }

  /** Remove every part. */
  clear() {
    this.parts.clear();
    this.panels.clear();
    this.body.replaceChildren();
    this.tabs.replaceChildren();
    this.tabs.hidden = true;
  }

  /** Start over, empty: a new attempt of the same request begins. */
  reset() {
    this.clear();
    this.seq = 0;
    this.setError(null);
    this.metrics = undefined;
    this.log = undefined;
    this.cover = null;
    this.revealed = false;
    this.shownChoice = 0;
    this.onMetrics?.();
  }

  /** @param {number} choice */
  panel(choice) {
    let panel = this.panels.get(choice);
    if (!panel) {
      panel = h("div", "nbs-choice");
      panel.dataset.choice = String(choice);
      panel.setAttribute("role", "tabpanel");
      panel.hidden = choice !== this.shownChoice;
      this.panels.set(choice, panel);
      this.body.append(panel);
      const tab = /** @type {HTMLButtonElement} */ (h("button", "nbs-tab", `Choice ${choice + 1}`));
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.dataset.choice = String(choice);
      tab.addEventListener("click", () => this.showChoice(choice));
      this.tabs.append(tab);
      this.tabs.hidden = this.panels.size < 2;
      this.showChoice(this.shownChoice);
    }
    return panel;
  }

  /** @param {number} choice */
  showChoice(choice) {
    this.shownChoice = choice;
    for (const [index, panel] of this.panels) panel.hidden = index !== choice;
    for (const tab of this.tabs.children) {
      const selected = /** @type {HTMLElement} */ (tab).dataset.choice === String(choice);
      tab.setAttribute("aria-selected", String(selected));
    }
  }

  /** @param {PartView} part */
  addPart(part) {
    this.parts.set(part.id, part);
    this.panel(part.choice).append(part.el);
  }

  afterParts() {
    const answering = [...this.parts.values()].some((p) => p.kind === "text" && p.hasContent);
    if (answering) for (const part of this.parts.values()) part.collapse();
    this.coverHidden();
  }

  /** Parts the kernel hid (`info.hidden`, e.g. "moderation") stay behind a "Hidden by
   * moderation — show" control until the reader asks to see them, in this view only. */
  coverHidden() {
    const reason = [...this.parts.values()].map((p) => p.info?.hidden).find(Boolean);
    const covered = Boolean(reason) && !this.revealed;
    if (reason && !this.cover) {
      const cover = h("div", "nbs-hidden-cover");
      cover.setAttribute("role", "note");
      const show = /** @type {HTMLButtonElement} */ (h("button", "nbs-show", "show"));
      show.type = "button";
      show.setAttribute("aria-label", `Show the answer hidden by ${reason}`);
      show.addEventListener("click", () => {
        this.revealed = true;
        this.coverHidden();
      });
      cover.append(h("span", "", `Hidden by ${reason} — `), show);
      this.cover = cover;
    }
    if (this.cover) {
      this.cover.hidden = !covered;
      if (this.cover.parentNode !== this.body) this.body.prepend(this.cover);
    }
    for (const part of this.parts.values()) part.el.hidden = covered;
  }

  /**
   * Apply a patch if it follows the last one and every op splices into what this view holds;
   * on a gap or a mismatch nothing is applied and the view should ask for a snapshot.
   * @param {Patch} patch
   * @returns {"applied" | "stale" | "gap" | "mismatch"}
   */
  applyPatch(patch) {
    if (patch.seq <= this.seq) return "stale";
    if (patch.seq !== this.seq + 1) return "gap";
    const ops = patch.parts || [];
    const fits = (/** @type {PartOp} */ op) => {
      const part = this.parts.get(op.id);
      return part ? part.accepts(op) : !op.keep && !op.from_tail;
    };
    if (!ops.every(fits)) return "mismatch";
    for (const op of ops) {
      let part = this.parts.get(op.id);
      if (!part) {
        part = new PartView(op);
        this.addPart(part);
      }
      part.apply(op);
    }
    if (patch.parts) this.afterParts();
    if (patch.metrics) this.metrics = patch.metrics;
    if (patch.log) this.log = patch.log;
    if (patch.metrics || patch.log) this.onMetrics?.();
    this.setError(patch.error);
    this.seq = patch.seq;
    return "applied";
  }

  /**
   * The whole state as a snapshot, for the view's own copy of the `snapshot` trait.
   * @param {string} status
   * @returns {Snapshot}
   */
  toSnapshot(status) {
    return {
      seq: this.seq,
      status,
      error: this.error.hidden ? null : this.error.textContent,
      parts: [...this.parts.values()].map((part) => part.toSnapshot()),
      metrics: this.metrics,
      log: this.log,
    };
  }

  /** @param {string | null | undefined} message */
  setError(message) {
    if (message === undefined) return;
    this.error.hidden = !message;
    this.error.textContent = message || "";
  }
}
