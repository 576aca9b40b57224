// Earlier attempts of a request that was run again (`_attempts`): a navigator ‹ 2/3 › in the
// header shows one read-only (its answer, status line, metrics, details) without disturbing
// the live attempt, which goes on underneath and is shown again at the last position.
import { fillDetails } from "./details.js";
import { showMetrics } from "./footer.js";
import { attemptLabel, FINAL, secs } from "./format.js";
import { showModelName, showPosition } from "./header.js";
import { inflateJson } from "./inflate.js";
import { StreamView } from "./stream_view.js";

/**
 * @typedef {{status: string, stop_reason?: string | null,
 *   snapshot: import("./stream_view.js").Snapshot | null}} Attempt
 * @typedef {{root: HTMLElement, view: StreamView, header: import("./header.js").Header,
 *   footer: import("./footer.js").Footer, leaveRaw: () => void, showLive: () => void}} Host
 */

/**
 * The earlier attempts a model holds: deflated JSON (a widget's trait) or a list (a grid pane).
 * @param {any} value
 * @returns {Promise<Attempt[]>}
 */
export async function readAttempts(value) {
  if (Array.isArray(value)) return value;
  if (value && value.byteLength) {
    const list = await inflateJson(value);
    return Array.isArray(list) ? list : [];
  }
  return [];
}

/** Browses a view's earlier attempts. */
export class AttemptBrowser {
  /** @param {Host} host */
  constructor(host) {
    this.host = host;
    /** @type {Attempt[]} */
    this.attempts = [];
    /** @type {number | null} the earlier attempt shown, or null: the live one */
    this.index = null;
    /** @type {StreamView | null} */
    this.past = null;
    this.loads = 0;
    const { nav } = host.header;
    nav.prev.addEventListener("click", () => this.go(-1));
    nav.next.addEventListener("click", () => this.go(1));
    for (const el of [host.view.tabs, host.view.body, host.view.error]) el.classList.add("nbs-live");
  }

  get browsing() {
    return this.index !== null;
  }

  /** The attempts changed (a re-run started): show the live one. @param {any} value */
  async load(value) {
    const load = ++this.loads;
    const attempts = await readAttempts(value).catch(() => []);
    if (load !== this.loads) return; // a newer list arrived meanwhile
    this.attempts = attempts;
    this.show(null);
  }

  /** @param {number} delta */
  go(delta) {
    const count = this.attempts.length + 1;
    const at = Math.min(count - 1, Math.max(0, (this.index ?? count - 1) + delta));
    this.show(at === count - 1 ? null : at);
  }

  /** @param {number | null} index an earlier attempt, or null for the live one */
  show(index) {
    this.past?.body.remove();
    this.past?.tabs.remove();
    this.past?.error.remove();
    this.past = null;
    this.index = index !== null && index < this.attempts.length ? index : null;
    const { root, header } = this.host;
    showPosition(header.nav, this.index ?? this.attempts.length, this.attempts.length + 1);
    header.raw.disabled = this.browsing;
    if (this.index === null) {
      delete root.dataset.browsing;
      delete header.dot.dataset.status;
      this.host.showLive();
      return;
    }
    this.host.leaveRaw();
    root.dataset.browsing = "";
    this.showPast(this.attempts[this.index]);
  }

  /** @param {Attempt} attempt */
  showPast(attempt) {
    const { root, view, header, footer } = this.host;
    const past = new StreamView(root);
    if (attempt.snapshot) past.applySnapshot({ ...attempt.snapshot, seq: attempt.snapshot.seq ?? 0 });
    view.tabs.after(past.tabs);
    view.body.after(past.body);
    view.error.after(past.error);
    this.past = past;
    const metrics = past.metrics;
    header.label.textContent = attemptLabel(attempt);
    header.label.title = attempt.status === "stopped" ? String(metrics?.stop_detail || "") : "";
    header.dot.dataset.status = attempt.status;
    showModelName(header, metrics?.model || "");
    header.elapsed.textContent = metrics?.duration_s ? secs(metrics.duration_s) : "";
    showMetrics(footer, metrics, past.log);
    if (past.parts.size || !FINAL.has(attempt.status)) delete root.dataset.empty;
    else root.dataset.empty = "";
  }

  /** Details opened while an earlier attempt is shown. */
  fillDetails() {
    if (this.past) fillDetails(this.host.footer.box, this.past.metrics, this.past.log);
  }

  /** The earlier attempt's text, for Copy. */
  text() {
    return this.past ? this.past.body.innerText : null;
  }
}
