// A stream's header: status dot, title, status line, model, elapsed time, Copy, Raw, Stop.
import { button, h } from "./dom.js";

/**
 * @typedef {{el: HTMLElement, dot: HTMLElement, label: HTMLElement, title: HTMLElement,
 *   modelName: HTMLElement, elapsed: HTMLElement, copy: HTMLButtonElement,
 *   raw: HTMLButtonElement, stop: HTMLButtonElement}} Header
 */

/** @returns {Header} */
export function makeHeader() {
  const el = h("div", "nbstream-header");
  const dot = h("span", "nbstream-dot");
  const label = h("span", "nbstream-status");
  const title = h("span", "nbstream-title");
  const modelName = h("span", "nbstream-model");
  const elapsed = h("span", "nbstream-elapsed");
  const copy = button("nbstream-action", "Copy",
    { title: "Copy the answer as markdown", label: "Copy the answer as markdown" });
  const raw = button("nbstream-action", "Raw", { title: "Toggle raw markdown / rendered" });
  raw.setAttribute("aria-pressed", "false");
  const stop = button("nbstream-stop", "Stop",
    { title: "Stop generation (closes the connection; Esc)", label: "Stop generation" });
  el.append(dot, title, label, modelName, elapsed, h("span", "nbstream-spacer"), copy, raw, stop);
  return { el, dot, label, title, modelName, elapsed, copy, raw, stop };
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
  header.modelName.textContent = String(name);
  header.modelName.title = String(name);
}
