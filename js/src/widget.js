// nbstream front-end: applies the kernel's sequence-numbered patches in animation frames.
//
// State synced with Python: `status` (trait) and `_snapshot` (trait: the final state as
// deflated JSON, set when the stream ends, for views that join later and saved widget state).
// Kernel -> page custom messages: {type: "patch", seq, status, parts?, metrics?, error?,
// final?, log?}, {type: "snapshot", snapshot} and {type: "source", parts: {id: text}}.
// Page -> kernel: {type: "stop"}, {type: "hello"} (asks for a snapshot: sent when a view joins
// a running stream or sees a sequence gap) and {type: "source"} (the markdown source, on demand).
// Browser-only state (the DOM, the applied sequence number, scroll following) lives here.
// Model output reaches the DOM only as the kernel renderer's escaped HTML or as textContent.

/** @typedef {{id: number, kind?: string, choice?: number, info?: Record<string, any>, done?: boolean,
 *   append?: string[], from_tail?: number, keep?: number, tail?: string, text?: string,
 *   reset?: boolean, check?: [number, number]}} PartOp */
/** @typedef {{type: "patch", seq: number, status: string, parts?: PartOp[],
 *   metrics?: Record<string, any>, error?: string, final?: boolean, log?: any}} Patch */
/** @typedef {{seq: number, status: string, error?: string | null, parts: any[],
 *   metrics?: Record<string, any>, log?: any}} Snapshot */

const FINAL = new Set(["done", "stopped", "error"]);
const STATUS_LABEL = {
  pending: "Waiting for the model…",
  streaming: "Streaming",
  done: "Done",
  stopped: "Stopped",
  error: "Error",
};
const PHASE_LABEL = { queued: "Queued…", in_progress: "Thinking…", created: "Thinking…" };
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
const IMAGE_B64 = /^[A-Za-z0-9+/=\s]+$/;

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {number | null | undefined} seconds */
function secs(seconds) {
  if (seconds == null) return "–";
  return seconds < 10 ? `${seconds.toFixed(2)} s` : `${seconds.toFixed(1)} s`;
}

/** @param {Record<string, any> | undefined} m */
export function formatMetrics(m) {
  if (!m) return "";
  const bits = [];
  if (m.output_tokens != null && !(m.output_tokens_estimated && m.output_tokens === 0)) {
    bits.push(`${m.output_tokens_estimated ? "~" : ""}${m.output_tokens} tokens`);
  }
  if (m.tokens_per_s != null) bits.push(`${m.tokens_per_s} tok/s`);
  if (m.ttft_s != null) bits.push(`first token ${m.ttft_s.toFixed(2)} s`);
  if (m.finish_reason) bits.push(`finish: ${m.finish_reason}`); // the header shows the duration
  if (typeof m.cost_usd === "number") {
    const digits = m.cost_usd >= 0.1 ? 2 : m.cost_usd >= 0.001 ? 4 : 6;
    bits.push(`${m.cost_estimated ? "≈ " : ""}$${m.cost_usd.toFixed(digits)}`);
  }
  return bits.join(" · ");
}

/**
 * Inflate a zlib-deflated JSON buffer (large patches travel this way).
 * @param {DataView | ArrayBuffer} buffer
 */
export async function inflateJson(buffer) {
  const bytes = buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const body = /** @type {ReadableStream} */ (new Response(bytes).body);
  return JSON.parse(await new Response(body.pipeThrough(new DecompressionStream("deflate"))).text());
}

/** @param {string} text */
function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** @param {unknown} url */
function safeHref(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

/**
 * A small SVG bar chart of token arrivals over time.
 * @param {{bucket_s: number, counts: number[]} | undefined} timeline
 */
export function timelineSvg(timeline) {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "nbs-timeline");
  svg.setAttribute("viewBox", "0 0 240 40");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  const counts = timeline?.counts || [];
  const peak = Math.max(1, ...counts);
  const width = 240 / Math.max(1, counts.length);
  counts.forEach((count, i) => {
    const bar = document.createElementNS(svgNs, "rect");
    const height = (count / peak) * 38;
    bar.setAttribute("x", String(i * width));
    bar.setAttribute("y", String(40 - height));
    bar.setAttribute("width", String(Math.max(width - 0.5, 0.5)));
    bar.setAttribute("height", String(height));
    svg.append(bar);
  });
  const rate = timeline ? (peak / timeline.bucket_s).toFixed(0) : "0";
  svg.setAttribute("aria-label", `Token arrivals over time; peak ${rate} tokens/s`);
  return svg;
}

/**
 * Adler-32 of a string's UTF-16LE bytes: the kernel sends it (with the length in UTF-16 code
 * units, the unit of every offset) for the string an op splices into, so the page splices
 * only into the very string the kernel means (nbstream/_patches.py, `integrity`).
 * @param {string} text
 * @returns {number}
 */
export function adler32Utf16(text) {
  let a = 1;
  let b = 0;
  for (let i = 0; i < text.length;) {
    const end = Math.min(text.length, i + 2048); // sums stay exact in doubles
    for (; i < end; i++) {
      const unit = text.charCodeAt(i);
      a += unit & 255;
      b += a;
      a += unit >>> 8;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return b * 65536 + a;
}

/**
 * Whether `text` is the string the kernel's op expects to splice into.
 * @param {string} text
 * @param {PartOp} op
 */
function holds(text, op) {
  const kept = Math.max(op.keep || 0, op.from_tail || 0);
  if (op.reset || kept === 0) return true;
  const check = op.check;
  return Array.isArray(check) && check[0] === text.length && kept <= text.length
    && check[1] === adler32Utf16(text);
}

// What the kernel's renderer makes (nbstream/_markdown.py); anything else is dropped.
const SAFE_TAGS = new Set(("a p h1 h2 h3 h4 h5 h6 ul ol li blockquote pre code em strong s del "
  + "img hr br table thead tbody tr th td input span div button sup sub").split(" "));
const SAFE_ATTRIBUTES = new Set(("class title alt loading referrerpolicy target rel start "
  + "disabled checked aria-label data-lang data-display").split(" "));
const SAFE_URL = { href: /^(?:https?:|mailto:|#)/i, src: /^(?:https?:\/\/|data:image\/(?:gif|png|jpeg|webp);)/i };
const SAFE_STYLE = /^text-align:\s*(?:left|right|center);?$/;
const SAFE_TYPE = { input: "checkbox", button: "button" };

/**
 * Parse HTML made by the kernel into inert nodes, keeping only the elements and attributes
 * its renderer makes: a second line of defence, should a splice ever go wrong, against
 * markup that runs script, loads from elsewhere or escapes the widget's box.
 * @param {string} html
 * @returns {DocumentFragment}
 */
export function safeFragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  for (const node of [...template.content.querySelectorAll("*")]) {
    const tag = node.localName;
    if (!SAFE_TAGS.has(tag)) {
      node.replaceWith(document.createTextNode(node.textContent || ""));
      continue;
    }
    for (const { name, value } of [...node.attributes]) {
      const url = SAFE_URL[/** @type {keyof SAFE_URL} */ (name)];
      const type = SAFE_TYPE[/** @type {keyof SAFE_TYPE} */ (tag)];
      const ok = SAFE_ATTRIBUTES.has(name)
        || (url !== undefined && url.test(value.replace(/[\x00-\x20\x7f]+/g, "")))
        || (name === "style" && SAFE_STYLE.test(value))
        || (name === "type" && value === type);
      if (!ok) node.removeAttribute(name);
    }
    if (tag === "input" && !node.hasAttribute("disabled")) node.setAttribute("disabled", "");
  }
  return template.content;
}

/** One output part's DOM and what it holds. */
class PartView {
  /** @param {PartOp} op */
  constructor(op) {
    this.id = op.id;
    this.kind = op.kind || "text";
    this.choice = op.choice || 0;
    this.tailHtml = "";
    this.text = "";
    /** @type {Record<string, any>} */
    this.info = {};
    this.done = false;
    /** @type {string[]} committed blocks' HTML, kept for the snapshot this view records */
    this.blockHtml = [];
    this.userToggled = false;
    this.el = h("div", `nbs-part nbs-${this.kind}`);
    this.el.dataset.part = String(op.id);
    if (this.kind === "text" || this.kind === "reasoning") {
      this.blocks = h("div", "nbs-blocks");
      this.tail = h("div", "nbs-tail");
      if (this.kind === "reasoning") {
        const details = /** @type {HTMLDetailsElement} */ (h("details", "nbs-reasoning-box"));
        details.open = true;
        const summary = h("summary", "nbs-label", "Reasoning");
        summary.addEventListener("click", () => (this.userToggled = true));
        details.append(summary, this.blocks, this.tail);
        this.el.append(details);
        this.details = details;
      } else {
        this.sources = h("ol", "nbs-sources");
        this.sources.hidden = true;
        this.el.append(this.blocks, this.tail, this.sources);
      }
    } else {
      this.label = h("div", "nbs-label");
      this.pre = h("pre", "nbs-plain");
      this.el.append(this.label, this.pre);
    }
  }

  /**
   * Whether this part holds the string `op` splices into (see `holds`).
   * @param {PartOp} op
   */
  accepts(op) {
    if (this.blocks) return op.tail === undefined && !op.from_tail ? true : holds(this.tailHtml, op);
    return op.text === undefined || holds(this.text, op);
  }

  /** @param {PartOp} op */
  apply(op) {
    if (op.info !== undefined) this.info = op.info || {};
    if (op.done !== undefined) this.done = op.done;
    if (this.blocks && this.tail) {
      if (op.reset) {
        this.blocks.replaceChildren();
        this.blockHtml = [];
        this.tailHtml = "";
      }
      const previousTail = this.tailHtml;
      (op.append || []).forEach((piece, i) => {
        const html = i === 0 && op.from_tail ? previousTail.slice(0, op.from_tail) + piece : piece;
        this.blocks.append(safeFragment(html));
        this.blockHtml.push(html);
      });
      // No `tail` means the open tail is unchanged (even when blocks were appended).
      if (op.tail !== undefined) {
        this.tailHtml = this.tailHtml.slice(0, op.keep || 0) + op.tail;
        this.tail.replaceChildren(safeFragment(this.tailHtml));
      }
    } else if (op.text !== undefined) {
      this.text = this.text.slice(0, op.keep || 0) + op.text;
    }
    this.decorate(op.info !== undefined);
  }

  get hasContent() {
    return this.blockHtml.length > 0 || this.tailHtml !== "" || this.text !== "";
  }

  /** Collapse the reasoning once the answer starts (unless the reader opened or closed it). */
  collapse() {
    if (this.details && this.details.open && !this.userToggled) this.details.open = false;
  }

  /** @param {boolean} infoChanged */
  decorate(infoChanged) {
    const info = this.info;
    if (this.sources && infoChanged) this.showSources(info.annotations || []);
    if (!this.label || !this.pre) return;
    if (this.kind === "tool_call") {
      const what = info.type === "mcp_call" ? `MCP ${info.server || ""} · ` : "Tool call: ";
      this.label.textContent = `${what}${info.name || "…"}${this.done ? "" : " (streaming arguments)"}`;
      this.pre.textContent = this.done ? prettyJson(this.text) : this.text;
    } else if (this.kind === "tool") {
      const name = String(info.type || "tool").replace(/_call$/, "").replace(/_/g, " ");
      const status = String(info.status || (this.done ? "completed" : "in progress")).replace(/_/g, " ");
      this.label.textContent = `${name} · ${status}`;
      this.el.dataset.state = this.done ? "done" : "running";
      if (info.type === "image_generation_call" && this.text && IMAGE_B64.test(this.text)) {
        this.showImage();
      } else {
        this.pre.textContent = this.text;
        this.pre.hidden = !this.text;
      }
    } else {
      this.label.textContent = this.kind === "refusal" ? "The model refused" : this.kind;
      this.pre.textContent = this.text;
    }
  }

  showImage() {
    if (!this.pre) return;
    this.pre.hidden = true;
    if (!this.image) {
      this.image = /** @type {HTMLImageElement} */ (h("img", "nbs-image"));
      this.image.alt = "generated image";
      this.el.append(this.image);
    }
    this.image.src = `data:image/png;base64,${this.text.replace(/\s/g, "")}`;
  }

  /** @param {any[]} annotations */
  showSources(annotations) {
    if (!this.sources) return;
    this.sources.replaceChildren();
    const seen = new Set();
    for (const note of annotations) {
      const label = note.title || note.filename || note.url || note.file_id;
      if (!label || seen.has(label)) continue;
      seen.add(label);
      const item = h("li");
      const href = safeHref(note.url);
      if (href) {
        const link = /** @type {HTMLAnchorElement} */ (h("a", "", String(label)));
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer nofollow";
        item.append(link);
      } else {
        item.textContent = String(label);
      }
      this.sources.append(item);
    }
    this.sources.hidden = seen.size === 0;
  }

  /** This part as a snapshot entry (the same shape the kernel sends). */
  toSnapshot() {
    const entry = { id: this.id, kind: this.kind, choice: this.choice, info: this.info, done: this.done };
    return this.blocks
      ? { ...entry, blocks: [...this.blockHtml], tail: this.tailHtml }
      : { ...entry, text: this.text };
  }

  /** @param {any} entry */
  static fromSnapshot(entry) {
    const view = new PartView(entry);
    view.apply({ id: entry.id, info: entry.info, done: entry.done, append: entry.blocks || [],
      keep: 0, tail: entry.tail || "", text: entry.text });
    return view;
  }
}

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
    this.parts.clear();
    this.panels.clear();
    this.body.replaceChildren();
    this.tabs.replaceChildren();
    this.tabs.hidden = true;
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

/**
 * The details panel: every metric, the token-rate timeline, event counts and the event log.
 * @param {HTMLElement} box
 * @param {Record<string, any> | undefined} m
 * @param {any} log
 */
function fillDetails(box, m, log) {
  box.replaceChildren();
  if (!m) return;
  const rows = [
    ["model", m.model], ["response id", m.response_id], ["time to first token", secs(m.ttft_s)],
    ["duration", secs(m.duration_s)],
    ["output tokens", m.output_tokens == null ? null : `${m.output_tokens}${m.output_tokens_estimated ? " (estimate)" : ""}`],
    ["tokens / s", m.tokens_per_s], ["inter-token latency, median", secs(m.itl_median_s)],
    ["inter-token latency, p95", secs(m.itl_p95_s)], ["finish reason", m.finish_reason],
    ["events", m.events],
  ];
  const table = h("table", "nbs-metrics");
  for (const [name, value] of rows) {
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
  if (log) {
    const lines = [...(log.first || []), ...(log.omitted ? [[null, `… ${log.omitted} more events …`]] : []),
      ...(log.last || [])].map(([t, name]) => (t == null ? name : `+${Number(t).toFixed(3)} s  ${name}`));
    box.append(h("pre", "nbs-log", lines.join("\n")));
  }
}

/**
 * Build a view's DOM and wire it to the model.
 * @param {{model: any, el: HTMLElement}} context
 * @returns {Instance}
 */
function build({ model, el }) {
  const root = h("div", "nbstream");
  root.tabIndex = -1;
  const header = h("div", "nbstream-header");
  const dot = h("span", "nbstream-dot");
  const label = h("span", "nbstream-status");
  const title = h("span", "nbstream-title");
  const showTitle = () => {
    title.textContent = String(model.get("title") || ""); // text, never markup
    title.title = title.textContent;
    title.hidden = !title.textContent;
  };
  showTitle();
  const modelName = h("span", "nbstream-model");
  const elapsed = h("span", "nbstream-elapsed");
  const copy = /** @type {HTMLButtonElement} */ (h("button", "nbstream-action", "Copy"));
  copy.type = "button";
  copy.title = "Copy the answer as markdown";
  copy.setAttribute("aria-label", "Copy the answer as markdown");
  const raw = /** @type {HTMLButtonElement} */ (h("button", "nbstream-action", "Raw"));
  raw.type = "button";
  raw.title = "Toggle raw markdown / rendered";
  raw.setAttribute("aria-pressed", "false");
  const stop = /** @type {HTMLButtonElement} */ (h("button", "nbstream-stop", "Stop"));
  stop.type = "button";
  stop.setAttribute("aria-label", "Stop generation");
  stop.title = "Stop generation (closes the connection; Esc)";
  header.append(dot, title, label, modelName, elapsed, h("span", "nbstream-spacer"), copy, raw,
    stop);
  const view = new StreamView(root);
  const frameBox = h("div", "nbstream-frame");
  const rawBox = /** @type {HTMLPreElement} */ (h("pre", "nbstream-raw"));
  rawBox.hidden = true;
  const jump = /** @type {HTMLButtonElement} */ (h("button", "nbstream-jump", "↓ Jump to latest"));
  jump.type = "button";
  jump.hidden = true;
  frameBox.append(view.body, rawBox, jump);
  const footer = h("div", "nbstream-footer");
  const line = h("span", "nbstream-metrics");
  const details = /** @type {HTMLDetailsElement} */ (h("details", "nbstream-details"));
  const detailsBox = h("div", "nbstream-details-box");
  details.append(h("summary", "", "Details"), detailsBox);
  footer.append(line, details);
  root.append(header, view.tabs, frameBox, view.error, footer);
  el.append(root);

  /** @type {any[]} */
  let queue = [];
  let frame = 0;
  let following = true;
  let timer = 0;
  let clock = { at: performance.now(), duration: 0 };
  /** @type {((parts: Record<string, string>) => void)[]} */
  let sourceWaiters = [];

  // The live status comes with every patch (the trait changes once, at the end, in one
  // message with the final snapshot: a hundred streams starting cost no message each).
  let kernelStatus = "";
  const status = () => {
    const trait = model.get("status") || "pending";
    return FINAL.has(trait) || !kernelStatus ? trait : kernelStatus;
  };

  const tick = () => {
    const running = !FINAL.has(status());
    const seconds = running ? clock.duration + (performance.now() - clock.at) / 1000 : clock.duration;
    elapsed.textContent = seconds > 0 ? secs(seconds) : "";
    if (!running && timer) {
      clearInterval(timer);
      timer = 0;
    }
  };

  /** The status line: "Thinking…" only while a streaming answer has no text yet. */
  const showLabel = () => {
    const current = status();
    const phase = PHASE_LABEL[/** @type {keyof PHASE_LABEL} */ (view.metrics?.phase)];
    const answering = [...view.parts.values()].some((p) => p.kind === "text" && p.hasContent);
    label.textContent = current === "streaming" && phase && !answering
      ? phase
      : current === "stopped"
        ? stoppedLabel(view.metrics)
        : STATUS_LABEL[/** @type {keyof STATUS_LABEL} */ (current)] || current;
    label.title = current === "stopped" ? String(view.metrics?.stop_detail || "") : "";
    if (view.parts.size || !FINAL.has(current)) delete root.dataset.empty;
    else root.dataset.empty = ""; // an answer that ended with nothing shows no empty box
  };

  view.onMetrics = () => {
    const m = view.metrics;
    if (m) {
      clock = { at: performance.now(), duration: m.duration_s || 0 };
      if (m.model) {
        modelName.textContent = String(m.model);
        modelName.title = String(m.model);
      }
    }
    line.textContent = formatMetrics(m);
    if (details.open) fillDetails(detailsBox, m, view.log);
    showLabel();
    tick();
  };

  const showStatus = () => {
    const current = status();
    root.dataset.status = current;
    const ended = FINAL.has(current);
    stop.disabled = ended;
    stop.classList.toggle("nbs-gone", ended);
    stop.setAttribute("aria-hidden", String(ended));
    if (!ended && !timer) timer = window.setInterval(tick, 100);
    showLabel();
    tick();
  };

  // A hello can be lost (e.g. a page reloaded while the kernel routes it to a subshell that
  // is gone): ask again until a snapshot arrives or the stream has ended.
  let helloTimer = 0;
  const askForSnapshot = () => {
    if (view.wantsSnapshot) return;
    view.wantsSnapshot = true;
    let tries = 0;
    const ask = () => {
      helloTimer = 0;
      if (!view.wantsSnapshot || tries++ >= 6) return;
      model.send({ type: "hello" });
      helloTimer = window.setTimeout(ask, 1500);
    };
    ask();
  };

  const nearBottom = () => view.body.scrollHeight - view.body.scrollTop - view.body.clientHeight < 24;

  const flush = () => {
    frame = 0;
    const messages = queue;
    queue = [];
    const before = status();
    for (const msg of messages) {
      if (msg.type === "snapshot") {
        view.applySnapshot(msg.snapshot);
        kernelStatus = msg.snapshot?.status || kernelStatus;
      } else if (msg.type === "patch") {
        const outcome = view.applyPatch(msg);
        if (outcome === "gap" || outcome === "mismatch") askForSnapshot();
        kernelStatus = msg.status || kernelStatus;
      }
    }
    if (status() !== before) showStatus();
    showLabel();
    if (following) view.body.scrollTop = view.body.scrollHeight;
    jump.hidden = following || nearBottom();
  };

  /** @param {any} msg */
  const enqueue = (msg) => {
    queue.push(msg);
    if (!frame) frame = requestAnimationFrame(flush);
  };

  // Deflated patches are inflated asynchronously; this chain keeps every message in order.
  /** @type {Promise<void>} */
  let inbox = Promise.resolve();
  /** @param {any} msg @param {DataView[]} [buffers] */
  const onMessage = (msg, buffers) => {
    if (msg && msg.type === "source") {
      const waiters = sourceWaiters;
      sourceWaiters = [];
      for (const resolve of waiters) resolve(msg.parts || {});
      return;
    }
    if (!msg || (msg.type !== "patch" && msg.type !== "snapshot")) return;
    if (!msg.z && !msg.deflated && inbox === settled) {
      enqueue(msg);
      return;
    }
    const done = (inbox = inbox
      .then(async () => {
        const packed = buffers ? buffers[0] : undefined;
        if (msg.z) msg.parts = await inflateJson(packed);
        if (msg.deflated) msg.snapshot = await inflateJson(packed);
        enqueue(msg);
      })
      .catch(() => askForSnapshot())
      .finally(() => {
        if (inbox === done) inbox = settled;
      }));
  };
  const settled = inbox;

  /** The answer's markdown (choice shown), fetched from the kernel on demand. */
  const source = () =>
    new Promise((resolve) => {
      const timeout = setTimeout(() => resolve(null), 3000);
      sourceWaiters.push((parts) => {
        clearTimeout(timeout);
        const texts = [...view.parts.values()]
          .filter((p) => p.kind === "text" && p.choice === view.shownChoice)
          .map((p) => parts[String(p.id)] || "");
        resolve(texts.join(""));
      });
      model.send({ type: "source" });
    });

  /** @param {HTMLElement} button @param {string} text */
  const flash = (button, text) => {
    const before = button.dataset.label || button.textContent || "";
    button.dataset.label = before;
    button.textContent = text;
    setTimeout(() => (button.textContent = before), 1200);
  };

  const onCopy = async () => {
    const text = (await source()) ?? view.body.innerText;
    try {
      await navigator.clipboard.writeText(String(text));
      flash(copy, "Copied");
    } catch {
      flash(copy, "Copy failed");
    }
  };

  const onRaw = async () => {
    const showRaw = rawBox.hidden;
    if (showRaw) rawBox.textContent = (await source()) ?? view.body.innerText;
    rawBox.hidden = !showRaw;
    view.body.hidden = showRaw;
    raw.setAttribute("aria-pressed", String(showRaw));
    raw.textContent = showRaw ? "Rendered" : "Raw";
  };

  /** @param {Event} event */
  const onClick = (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const button = target.closest ? target.closest(".nbs-copy") : null;
    if (!button) return;
    const code = button.closest(".nbs-code")?.querySelector("pre");
    if (code && navigator.clipboard) {
      navigator.clipboard.writeText(code.textContent || "").then(
        () => flash(/** @type {HTMLElement} */ (button), "Copied"),
        () => flash(/** @type {HTMLElement} */ (button), "Copy failed"),
      );
    }
  };

  const onScroll = () => {
    following = nearBottom();
    jump.hidden = following;
  };
  const onJump = () => {
    following = true;
    view.body.scrollTop = view.body.scrollHeight;
    jump.hidden = true;
  };
  let stopTimer = 0;
  const onStop = () => {
    stop.disabled = true;
    let tries = 0;
    const send = () => {
      stopTimer = 0;
      if (FINAL.has(status()) || tries++ >= 4) return;
      model.send({ type: "stop" });
      stopTimer = window.setTimeout(send, 1000); // until the kernel says it stopped
    };
    send();
  };
  /** @param {KeyboardEvent} event */
  const onKey = (event) => {
    if (event.key === "Escape" && !stop.disabled) onStop();
  };
  const onDetails = () => {
    if (details.open) fillDetails(detailsBox, view.metrics, view.log);
  };
  // The final state from the trait, in order with the patches (it must not overtake the
  // final patch still waiting for its frame: that would rebuild the DOM).
  const onSnapshot = () => {
    const packed = model.get("_snapshot");
    if (packed && packed.byteLength) onMessage({ type: "snapshot", deflated: true }, [packed]);
  };

  onSnapshot();
  showStatus();
  if (!FINAL.has(status())) askForSnapshot();

  model.on("msg:custom", onMessage);
  model.on("change:status", showStatus);
  model.on("change:_snapshot", onSnapshot);
  model.on("change:title", showTitle);
  stop.addEventListener("click", onStop);
  copy.addEventListener("click", onCopy);
  raw.addEventListener("click", onRaw);
  jump.addEventListener("click", onJump);
  root.addEventListener("keydown", onKey);
  details.addEventListener("toggle", onDetails);
  view.body.addEventListener("click", onClick);
  view.body.addEventListener("scroll", onScroll);

  /** @type {Instance} */
  const instance = {
    root,
    el,
    body: view.body,
    scrollTop: 0,
    following: () => following,
    selection: null,
    teardown: () => {
      if (frame) cancelAnimationFrame(frame);
      for (const id of [timer, helloTimer, stopTimer]) if (id) clearTimeout(id);
      model.off("msg:custom", onMessage);
      model.off("change:status", showStatus);
      model.off("change:_snapshot", onSnapshot);
      model.off("change:title", showTitle);
    },
  };
  return instance;
}

/**
 * @typedef {{root: HTMLElement, el: HTMLElement, body: HTMLElement, scrollTop: number,
 *   following: () => boolean, selection: [Node, number, Node, number] | null,
 *   teardown: () => void, owner?: object}} Instance
 */

/** Live views per widget (`_key`), so a view re-created in place can take over its
 * predecessor's DOM, and a view whose display became the static copy can move into it. */
/** @type {Map<string, Set<Instance>>} */
const LIVE = new Map();
/** Where each instance lives: its output area (to find its own static copy), whether it has
 * moved into a static copy, and its model link.
 * @type {WeakMap<Instance, {area: Element | null, adopted: boolean, link?: DurableModel}>} */
const PLACE = new WeakMap();
/** The output areas of the hosts (JupyterLab and Notebook 7; classic Notebook). */
const OUTPUT_AREA = ".jp-OutputArea, .output";
/** Frames a removed view waits for its static copy (or a new view) to appear. */
const PARK_FRAMES = 120;
/** The host's typography for HTML outputs (JupyterLab, Notebook 7: a 20 px right padding,
 * rules for p, h2, table, pre ...): the live widget keeps its own look when it moves in. */
const HTML_OUTPUT_CLASSES = ["jp-RenderedHTMLCommon", "jp-RenderedHTML"];

/**
 * Call `fn` in the next frame (unless the page is gone: jsdom once the tests are over).
 * @param {FrameRequestCallback} fn
 */
function nextFrame(fn) {
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(fn);
}

/**
 * @typedef {{get: (name: string) => any, set: (name: string, value: any) => void,
 *   save_changes: () => void, send: (...args: any[]) => void, widget_manager: any,
 *   on: (name: string, cb: Function) => void, off: (name: string, cb: Function) => void,
 *   rebind: (next: any) => void}} DurableModel
 */

/**
 * The model as an instance sees it, with listeners that outlive the view that built it:
 * anywidget drops every listener registered through a view's model when the host removes that
 * view, but the instance lives on (taken over by a new view, or moved into the static copy),
 * so it registers them again through `rebind`.
 * @param {any} model the model a view got from anywidget
 * @returns {DurableModel}
 */
function durableModel(model) {
  let current = model;
  /** @type {[string, Function][]} */
  const listeners = [];
  return {
    get: (name) => current.get(name),
    set: (name, value) => current.set(name, value),
    save_changes: () => current.save_changes(),
    send: (...args) => current.send(...args),
    get widget_manager() {
      return current.widget_manager;
    },
    on(name, cb) {
      listeners.push([name, cb]);
      current.on(name, cb);
    },
    off(name, cb) {
      for (let i = listeners.length - 1; i >= 0; i--) {
        if (listeners[i][0] === name && listeners[i][1] === cb) listeners.splice(i, 1);
      }
      current.off(name, cb);
    },
    rebind(next) {
      for (const [name, cb] of listeners) current.off(name, cb);
      current = next;
      for (const [name, cb] of listeners) current.on(name, cb);
    },
  };
}

/** @param {Instance} instance */
function place(instance) {
  let where = PLACE.get(instance);
  if (!where) PLACE.set(instance, (where = { area: null, adopted: false }));
  return where;
}

/**
 * What the reader had of an instance last time it was in the page: scroll and selection.
 * @param {Instance} instance
 */
function readerState(instance) {
  return { scrollTop: instance.scrollTop, following: instance.following(),
    selection: instance.selection };
}

/**
 * Once `instance.root` is in the page again, put the reader's scroll and selection back.
 * @param {Instance} instance
 * @param {{scrollTop: number, following: boolean, selection: Instance["selection"]}} saved
 */
function restoreWhenShown(instance, { scrollTop, following, selection }) {
  let frames = 0;
  const restore = () => {
    if (!instance.root.isConnected) {
      if (frames++ < PARK_FRAMES) nextFrame(restore);
      return;
    }
    place(instance).area = instance.root.closest(OUTPUT_AREA);
    instance.body.scrollTop = following ? instance.body.scrollHeight : scrollTop;
    if (selection) document.getSelection()?.setBaseAndExtent(...selection);
  };
  nextFrame(restore);
}

/**
 * End an instance: unwire it and forget it.
 * @param {Instance} instance
 * @param {string} key
 * @param {Set<Instance>} live the instances of its widget
 */
function retire(instance, key, live) {
  instance.teardown();
  live.delete(instance);
  if (!live.size && LIVE.get(key) === live) LIVE.delete(key);
}

/**
 * A view the host removed. At the end of a stream the kernel replaces every display of the
 * widget by a static copy (`<div class="nbstream-static" data-nbstream-key=...>`), so the saved
 * notebook never holds a widget view whose model is gone; the host then disposes this view and
 * renders the copy. The live DOM moves into the copy's place: the page keeps its live widget
 * (committed nodes, selection, scroll, Copy / Raw / Details), the saved output the copy.
 * Anything else (no copy appears: the output was cleared) ends the instance.
 * @param {Instance} instance
 * @param {any} model the removed view's model (anywidget's proxy)
 * @param {string} key
 * @param {Set<Instance>} live
 */
function park(instance, model, key, live) {
  const owner = {};
  instance.owner = owner;
  const saved = readerState(instance);
  const where = place(instance);
  let frames = 0;
  const look = () => {
    if (instance.owner !== owner) return; // a new view has taken this DOM over
    const copies = [...document.querySelectorAll(".nbstream-static[data-nbstream-key]")]
      .filter((node) => node.getAttribute("data-nbstream-key") === key);
    const area = where.area && where.area.isConnected ? where.area : null;
    const copy = copies.find((node) => !area || area.contains(node));
    if (copy && copy.parentElement) {
      instance.el = copy.parentElement;
      instance.el.classList.remove(...HTML_OUTPUT_CLASSES);
      copy.replaceWith(instance.root);
      where.adopted = true;
      where.link?.rebind(model); // anywidget dropped the listeners with the view
      restoreWhenShown(instance, saved);
      return;
    }
    if (frames++ < PARK_FRAMES) nextFrame(look);
    else {
      retire(instance, key, live);
      // The output was cleared (its output area is still in the page, without this view) while
      // the answer streams, and no other view of it is left here: it went away, so the kernel
      // stops it. A page closing (the whole area gone with it) says nothing.
      const cleared = where.area && where.area.isConnected && !where.area.contains(instance.root);
      if (cleared && !live.size && !FINAL.has(instance.root.dataset.status || "")) {
        where.link?.send({ type: "gone" });
      }
    }
  };
  // The host renders the copy right after it removes this view (the same task, in JupyterLab).
  queueMicrotask(look);
}

/**
 * Render a view. When the output holding a view is re-rendered in place (JupyterLab does so
 * when a display keeps its widget view), the old view's element is emptied out of the page;
 * the new view then takes over the old DOM instead of building a new one, so committed blocks
 * are never re-created and the reader's selection and scroll stay put. When the display is
 * replaced by the static copy at the end of the stream, the removed view moves into the copy
 * (see `park`).
 * @param {{model: any, el: HTMLElement}} context
 */
function render({ model, el }) {
  const key = String(model.get("_key") || "");
  /** @type {Set<Instance>} */
  const live = LIVE.get(key) || new Set();
  LIVE.set(key, live);
  // Instances that moved into a static copy which has since left the page (the cell was
  // cleared or run again) are over.
  for (const old of live) {
    if (PLACE.get(old)?.adopted && !old.root.isConnected) {
      old.teardown(); // (`live` stays registered: this view joins it below)
      live.delete(old);
    }
  }
  const owner = {};
  let instance = key
    ? [...live].find((old) => !old.el.parentNode && !old.root.isConnected)
    : undefined;
  if (instance) {
    const saved = readerState(instance);
    el.append(instance.root);
    instance.el = el;
    place(instance).link?.rebind(model); // listen through this view's model from now on
    // The host puts the new view into the page after render(): restore the reader's scroll
    // and selection once it is there.
    restoreWhenShown(instance, saved);
  } else {
    const link = durableModel(model);
    instance = build({ model: link, el });
    place(instance).link = link;
    live.add(instance);
    restoreWhenShown(instance, { scrollTop: 0, following: true, selection: null });
  }
  const current = instance;
  current.owner = owner;
  /** Remember the reader's scroll and selection while this view is in the page. */
  const remember = () => {
    if (!current.root.isConnected) return;
    place(current).area = current.root.closest(OUTPUT_AREA);
    current.scrollTop = current.body.scrollTop;
    const selected = document.getSelection();
    const inside = selected && selected.rangeCount > 0 && !selected.isCollapsed
      && current.root.contains(selected.anchorNode) && current.root.contains(selected.focusNode);
    current.selection = inside && selected.anchorNode && selected.focusNode
      ? [selected.anchorNode, selected.anchorOffset, selected.focusNode, selected.focusOffset]
      : null;
  };
  document.addEventListener("selectionchange", remember);
  current.body.addEventListener("scroll", remember);
  return () => {
    document.removeEventListener("selectionchange", remember);
    current.body.removeEventListener("scroll", remember);
    if (current.owner !== owner) return; // a newer view has taken this DOM over
    if (key) park(current, model, key, live);
    else retire(current, key, live);
  };
}

export default { render };
