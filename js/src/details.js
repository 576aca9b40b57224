// The details panel: every metric, the token-rate timeline, event counts and the event log.
import { h } from "./dom.js";
import { secs } from "./format.js";
import { timelineSvg } from "./timeline.js";

/** @param {Record<string, any>} m @returns {[string, any][]} */
function metricRows(m) {
  return [
    ["model", m.model], ["response id", m.response_id], ["time to first token", secs(m.ttft_s)],
    ["duration", secs(m.duration_s)],
    ["output tokens", m.output_tokens == null ? null : `${m.output_tokens}${m.output_tokens_estimated ? " (estimate)" : ""}`],
    ["tokens / s", m.tokens_per_s], ["inter-token latency, median", secs(m.itl_median_s)],
    ["inter-token latency, p95", secs(m.itl_p95_s)], ["finish reason", m.finish_reason],
    ["events", m.events],
  ];
}

/** @param {any} log */
function logLines(log) {
  return [...(log.first || []), ...(log.omitted ? [[null, `… ${log.omitted} more events …`]] : []),
    ...(log.last || [])].map(([t, name]) => (t == null ? name : `+${Number(t).toFixed(3)} s  ${name}`));
}

/**
 * Fill the details panel.
 * @param {HTMLElement} box
 * @param {Record<string, any> | undefined} m
 * @param {any} log
 */
export function fillDetails(box, m, log) {
  box.replaceChildren();
  if (!m) return;
  const table = h("table", "nbs-metrics");
  for (const [name, value] of metricRows(m)) {
    if (value == null) continue;
    const tr = h("tr");
    tr.append(h("th", "", String(name)), h("td", "", String(value)));
    table.append(tr);
  }
  const timeline = h("figure", "nbs-figure");
  timeline.append(timelineSvg(m.timeline), h("figcaption", "", "token arrivals over time"));
  const counts = h("table", "nbs-counts");
  for (const [type, count] of Object.entries(m.event_counts || {})) {
    const tr = h("tr");
    tr.append(h("td", "", type), h("td", "", String(count)));
    counts.append(tr);
  }
  box.append(timeline, table, counts);
  if (log) box.append(h("pre", "nbs-log", logLines(log).join("\n")));
}
