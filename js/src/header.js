// A stream's header: status dot, title, status line, model, elapsed time, the attempts
// navigator (‹ 2/3 ›), Copy, Raw, ↻ (run again) and Stop (last: it keeps its place).
import { button, h, setText } from "./dom.js";

/**
 * @typedef {{el: HTMLElement, dot: HTMLElement, label: HTMLElement, title: HTMLElement,
 *   notice: HTMLElement, modelName: HTMLElement, elapsed: HTMLElement, copy: HTMLButtonElement,
 *   raw: HTMLButtonElement, rerun: HTMLButtonElement, stop: HTMLButtonElement,
 *   nav: Navigator}} Header
 * @typedef {{el: HTMLElement, prev: HTMLButtonElement, next: HTMLButtonElement,
 *   position: HTMLElement}} Navigator
 */

/** The attempts navigator, hidden until there is an earlier attempt. @returns {Navigator} */
function makeNavigator() {
  const el = h("span", "nbstream-attempts");
  el.setAttribute("role", "group");
  el.setAttribute("aria-label", "Attempts");
  el.hidden = true;
  const prev = button("nbstream-nav", "‹", { title: "Earlier attempt", label: "Earlier attempt" });
  const next = button("nbstream-nav", "›", { title: "Later attempt", label: "Later attempt" });
  const position = h("span", "nbstream-attempt");
  position.setAttribute("aria-live", "polite");
  el.append(prev, position, next);
  return { el, prev, next, position };
}

/**
 * Show attempt `index` (0-based) of `count` in the navigator (hidden for a single attempt).
 * @param {Navigator} nav
 * @param {number} index
 * @param {number} count
 */
export function showPosition(nav, index, count) {
  nav.el.hidden = count < 2;
  nav.position.textContent = `${index + 1}/${count}`;
  nav.position.setAttribute("aria-label", `Attempt ${index + 1} of ${count}`);
  nav.prev.disabled = index <= 0;
  nav.next.disabled = index >= count - 1;
}

/** @returns {Header} */
export function makeHeader() {
  const el = h("div", "nbstream-header");
  const dot = h("span", "nbstream-dot");
  const label = h("span", "nbstream-status");
  const title = h("span", "nbstream-title");
  const notice = h("span", "nbstream-notice"); // e.g. a grid pane's "Rate limited (429) ..."
  notice.setAttribute("role", "status");
  notice.hidden = true;
  const modelName = h("span", "nbstream-model");
  const elapsed = h("span", "nbstream-elapsed");
  const copy = button("nbstream-action", "Copy",
    { title: "Copy the answer as markdown", label: "Copy the answer as markdown" });
  const raw = button("nbstream-action", "Raw", { title: "Toggle raw markdown / rendered" });
  raw.setAttribute("aria-pressed", "false");
  const stop = button("nbstream-stop", "Stop",
    { title: "Stop generation (closes the connection; Esc)", label: "Stop generation" });
  const rerun = button("nbstream-action nbstream-rerun", "↻",
    { title: "Run the same request again", label: "Run the same request again" });
  rerun.hidden = true;
  const nav = makeNavigator();
  el.append(dot, title, label, notice, modelName, elapsed, nav.el, h("span", "nbstream-spacer"), copy, raw,
    rerun, stop);
  return { el, dot, label, title, notice, modelName, elapsed, copy, raw, rerun, stop, nav };
}

/**
 * Show the title (text, never markup), hidden when empty.
 * @param {Header} header
 * @param {unknown} text
 */
export function showTitle(header, text) {
  const { title } = header;
  title.textContent = String(text || "");
  title.title = title.textContent;
  title.hidden = !title.textContent;
}

/**
 * Show the model's name (cut in the header, whole on hover).
 * @param {Header} header
 * @param {unknown} name
 */
export function showModelName(header, name) {
  setText(header.modelName, String(name));
  if (header.modelName.title !== String(name)) header.modelName.title = String(name);
}
