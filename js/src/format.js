// How statuses, stop reasons and metrics read in the page (all plain text).

/** The statuses a stream ends with. */
export const FINAL = new Set(["done", "stopped", "error"]);
export const STATUS_LABEL = {
  queued: "Queued",
  pending: "Waiting for the model…",
  streaming: "Streaming",
  done: "Done",
  stopped: "Stopped",
  error: "Error",
};
export const PHASE_LABEL = { queued: "Queued…", in_progress: "Thinking…", created: "Thinking…" };
/** Why a stream was stopped (`metrics.stop_reason`), as the header says it. */
const STOP_LABEL = {
  user: "",
  interrupt: "interrupted",
  rerun: "its cell ran again",
  closed: "closed",
  max_seconds: "time limit",
  max_output_tokens: "token limit",
  max_cost: "cost limit",
  idle: "no data from the server",
  loop: "repetition loop",
  moderation: "moderation",
  predicate: "stop_when",
};

/** "Stopped", or "Stopped: repetition loop at 3.2 s" when the kernel said why.
 * @param {Record<string, any> | null | undefined} metrics */
export function stoppedLabel(metrics) {
  const reason = metrics?.stop_reason;
  if (!reason) return STATUS_LABEL.stopped;
  const known = /** @type {Record<string, string>} */ (STOP_LABEL)[reason];
  const said = known === undefined ? String(reason) : known;
  if (!said) return STATUS_LABEL.stopped;
  const after = metrics?.stopped_after_s;
  return `Stopped: ${said}${typeof after === "number" ? ` at ${after.toFixed(1)} s` : ""}`;
}

/**
 * The status line: "Thinking…" only while a streaming answer has no text yet.
 * @param {string} status
 * @param {Record<string, any> | undefined} metrics
 * @param {boolean} answering whether the answer's text has started
 */
export function statusLabel(status, metrics, answering) {
  const phase = PHASE_LABEL[/** @type {keyof PHASE_LABEL} */ (metrics?.phase)];
  if (status === "streaming" && phase && !answering) return phase;
  if (status === "stopped") return stoppedLabel(metrics);
  return STATUS_LABEL[/** @type {keyof STATUS_LABEL} */ (status)] || status;
}

/** @param {number | null | undefined} seconds */
export function secs(seconds) {
  if (seconds == null) return "–";
  return seconds < 10 ? `${seconds.toFixed(2)} s` : `${seconds.toFixed(1)} s`;
}

/** A cost in dollars, "≈ " when it is an estimate. @param {number} usd @param {boolean} [estimated] */
export function money(usd, estimated) {
  const digits = usd >= 0.1 ? 2 : usd >= 0.001 ? 4 : 6;
  return `${estimated ? "≈ " : ""}$${usd.toFixed(digits)}`;
}

/** The footer's one-line summary. @param {Record<string, any> | undefined} m */
export function formatMetrics(m) {
  if (!m) return "";
  const bits = [];
  if (m.output_tokens != null && !(m.output_tokens_estimated && m.output_tokens === 0)) {
    bits.push(`${m.output_tokens_estimated ? "~" : ""}${m.output_tokens} tokens`);
  }
  if (m.tokens_per_s != null) bits.push(`${m.tokens_per_s} tok/s`);
  if (m.ttft_s != null) bits.push(`first token ${m.ttft_s.toFixed(2)} s`);
  if (m.finish_reason) bits.push(`finish: ${m.finish_reason}`); // the header shows the duration
  if (typeof m.cost_usd === "number") bits.push(money(m.cost_usd, m.cost_estimated));
  return bits.join(" · ");
}

/** JSON pretty-printed, or the text as it is when it is not JSON. @param {string} text */
export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * An earlier attempt's status line: "Stopped by you at 3.1 s", "Done", "Stopped: time limit
 * at 30.0 s" ...
 * @param {{status: string, stop_reason?: string | null, snapshot?: any}} attempt
 */
export function attemptLabel(attempt) {
  const metrics = { ...(attempt.snapshot?.metrics || {}) };
  if (attempt.stop_reason) metrics.stop_reason = attempt.stop_reason;
  if (attempt.status === "stopped" && metrics.stop_reason === "user") {
    const after = metrics.stopped_after_s ?? metrics.duration_s;
    return `Stopped by you${typeof after === "number" ? ` at ${after.toFixed(1)} s` : ""}`;
  }
  return statusLabel(attempt.status, metrics, true);
}
