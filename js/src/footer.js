// A stream's footer: the one-line metrics and the Details panel (filled only while open).
import { h, setText } from "./dom.js";
import { fillDetails } from "./details.js";
import { formatMetrics } from "./format.js";

/**
 * @typedef {{el: HTMLElement, line: HTMLElement, details: HTMLDetailsElement,
 *   box: HTMLElement}} Footer
 */

/** @returns {Footer} */
export function makeFooter() {
  const el = h("div", "nbstream-footer");
  const line = h("span", "nbstream-metrics");
  const details = /** @type {HTMLDetailsElement} */ (h("details", "nbstream-details"));
  const box = h("div", "nbstream-details-box");
  details.append(h("summary", "", "Details"), box);
  el.append(line, details);
  return { el, line, details, box };
}

/**
 * Show `metrics` (and, when Details is open, the whole panel).
 * @param {Footer} footer
 * @param {Record<string, any> | undefined} metrics
 * @param {any} log
 */
export function showMetrics(footer, metrics, log) {
  setText(footer.line, formatMetrics(metrics));
  if (footer.details.open) fillDetails(footer.box, metrics, log);
}
