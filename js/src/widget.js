// nbstream front-end: applies the kernel's sequence-numbered patches in animation frames.
//
// State synced with Python: `status` (trait), `snapshot` (trait, set when the stream ends).
// Kernel -> page custom messages: {type: "patch", seq, status, parts?, metrics?, error?}
// and {type: "snapshot", snapshot}. Page -> kernel: {type: "stop"} and {type: "hello"}
// (asks for a snapshot: sent when a view joins a running stream or sees a sequence gap).
// Browser-only state (the DOM, the applied sequence number) lives in the view below.
// Model output reaches the DOM only as the kernel renderer's escaped HTML or as textContent.

/** @typedef {{id: number, kind?: string, choice?: number, info?: Record<string, any>, done?: boolean,
 *   append?: string[], keep?: number, tail?: string, text?: string, reset?: boolean}} PartOp */
/** @typedef {{type: "patch", seq: number, status: string, parts?: PartOp[],
 *   metrics?: Record<string, any>, error?: string, final?: boolean}} Patch */
/** @typedef {{seq: number, status: string, error?: string | null, parts: any[],
 *   metrics?: Record<string, any>}} Snapshot */

const FINAL = new Set(["done", "stopped", "error"]);
const STATUS_LABEL = {
  pending: "Waiting for the model…",
  streaming: "Streaming",
  done: "Done",
  stopped: "Stopped",
  error: "Error",
};

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

/** @param {Record<string, any> | undefined} m */
export function formatMetrics(m) {
  if (!m) return "";
  const bits = [];
  if (m.output_tokens != null) {
    bits.push(`${m.output_tokens_estimated ? "~" : ""}${m.output_tokens} tokens`);
  }
  if (m.tokens_per_s != null) bits.push(`${m.tokens_per_s} tok/s`);
  if (m.ttft_s != null) bits.push(`first token ${m.ttft_s.toFixed(2)} s`);
  if (m.duration_s != null) bits.push(`${m.duration_s.toFixed(1)} s`);
  if (m.finish_reason) bits.push(`finish: ${m.finish_reason}`);
  return bits.join(" · ");
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
    /** @type {string[]} committed blocks' HTML, kept for the snapshot this view records */
    this.blockHtml = [];
    this.el = h("div", `nbs-part nbs-${this.kind}`);
    this.el.dataset.part = String(op.id);
    if (this.kind === "text" || this.kind === "reasoning") {
      this.blocks = h("div", "nbs-blocks");
      this.tail = h("div", "nbs-tail");
      if (this.kind === "reasoning") {
        const details = /** @type {HTMLDetailsElement} */ (h("details", "nbs-reasoning-box"));
        details.open = true;
        details.append(h("summary", "nbs-label", "Reasoning"), this.blocks, this.tail);
        this.el.append(details);
        this.details = details;
      } else {
        this.el.append(this.blocks, this.tail);
      }
    } else {
      this.label = h("div", "nbs-label");
      this.pre = h("pre", "nbs-plain");
      this.el.append(this.label, this.pre);
    }
  }

  /** @param {PartOp} op */
  apply(op) {
    if (op.info !== undefined) this.info = op.info;
    if (op.done !== undefined) this.done = op.done;
    if (this.blocks && this.tail) {
      if (op.reset) {
        this.blocks.replaceChildren();
        this.blockHtml = [];
        this.tailHtml = "";
      }
      for (const html of op.append || []) {
        this.blocks.insertAdjacentHTML("beforeend", html);
        this.blockHtml.push(html);
      }
      if (op.tail !== undefined || op.append) {
        this.tailHtml = this.tailHtml.slice(0, op.keep || 0) + (op.tail || "");
        this.tail.innerHTML = this.tailHtml;
      }
    } else if (op.text !== undefined) {
      this.text = this.text.slice(0, op.keep || 0) + op.text;
    }
    this.decorate();
  }

  decorate() {
    const info = this.info || {};
    if (this.label && this.pre) {
      if (this.kind === "tool_call") {
        this.label.textContent = `Tool call: ${info.name || "…"}${this.done ? "" : " (streaming arguments)"}`;
        this.pre.textContent = this.done ? prettyJson(this.text) : this.text;
      } else if (this.kind === "tool") {
        const name = String(info.type || "tool").replace(/_call$/, "").replace(/_/g, " ");
        this.label.textContent = `${name} · ${info.status || (this.done ? "completed" : "in progress")}`;
        this.pre.textContent = this.text;
        this.pre.hidden = !this.text;
      } else {
        this.label.textContent = this.kind === "refusal" ? "Refusal" : this.kind;
        this.pre.textContent = this.text;
      }
    }
  }

  /** This part as a snapshot entry (the same shape the kernel sends). */
  toSnapshot() {
    const entry = { id: this.id, kind: this.kind, choice: this.choice, info: this.info || {},
      done: !!this.done };
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

/** @param {string} text */
function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
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
    this.error = h("div", "nbstream-error");
    this.error.hidden = true;
    this.footer = h("div", "nbstream-footer");
    this.wantsSnapshot = false;
    /** @type {Record<string, any> | undefined} */
    this.metrics = undefined;
  }

  /** @param {Snapshot} snapshot */
  applySnapshot(snapshot) {
    if (!snapshot || snapshot.seq === undefined || snapshot.seq < this.seq) return false;
    // A view that is already up to date keeps its DOM (committed nodes are never re-created).
    if (snapshot.seq === this.seq && !this.wantsSnapshot && this.parts.size > 0) return false;
    this.parts.clear();
    this.body.replaceChildren();
    for (const entry of snapshot.parts || []) this.addPart(PartView.fromSnapshot(entry));
    this.seq = snapshot.seq;
    this.setError(snapshot.error);
    this.metrics = snapshot.metrics;
    this.footer.textContent = formatMetrics(snapshot.metrics);
    this.wantsSnapshot = false;
    return true;
  }

  /** @param {PartView} part */
  addPart(part) {
    this.parts.set(part.id, part);
    if (part.choice > 0) part.el.dataset.choice = String(part.choice);
    this.body.append(part.el);
  }

  /**
   * @param {Patch} patch
   * @returns {"applied" | "stale" | "gap"}
   */
  applyPatch(patch) {
    if (patch.seq <= this.seq) return "stale";
    if (patch.seq !== this.seq + 1) return "gap";
    for (const op of patch.parts || []) {
      let part = this.parts.get(op.id);
      if (!part) {
        part = new PartView(op);
        this.addPart(part);
      }
      part.apply(op);
    }
    if (patch.metrics) {
      this.metrics = patch.metrics;
      this.footer.textContent = formatMetrics(patch.metrics);
    }
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
    };
  }

  /** @param {string | null | undefined} message */
  setError(message) {
    this.error.hidden = !message;
    this.error.textContent = message || "";
  }
}

/** @param {{model: any, el: HTMLElement}} context */
function render({ model, el }) {
  const root = h("div", "nbstream");
  const header = h("div", "nbstream-header");
  const dot = h("span", "nbstream-dot");
  const label = h("span", "nbstream-status");
  const stop = /** @type {HTMLButtonElement} */ (h("button", "nbstream-stop", "Stop"));
  stop.type = "button";
  stop.setAttribute("aria-label", "Stop generation");
  stop.title = "Stop generation (closes the connection)";
  header.append(dot, label, h("span", "nbstream-spacer"), stop);
  const view = new StreamView(root);
  root.append(header, view.body, view.error, view.footer);
  el.append(root);

  /** @type {any[]} */
  let queue = [];
  let frame = 0;
  let following = true;

  const showStatus = () => {
    const status = model.get("status") || "pending";
    root.dataset.status = status;
    label.textContent = STATUS_LABEL[/** @type {keyof STATUS_LABEL} */ (status)] || status;
    const ended = FINAL.has(status);
    stop.disabled = ended;
    stop.hidden = ended;
  };

  const askForSnapshot = () => {
    if (view.wantsSnapshot) return;
    view.wantsSnapshot = true;
    model.send({ type: "hello" });
  };

  const flush = () => {
    frame = 0;
    const messages = queue;
    queue = [];
    const body = view.body;
    following = body.scrollHeight - body.scrollTop - body.clientHeight < 24;
    for (const msg of messages) {
      if (msg.type === "snapshot") {
        view.applySnapshot(msg.snapshot);
      } else if (msg.type === "patch") {
        const outcome = view.applyPatch(msg);
        if (outcome === "gap") askForSnapshot();
        // The kernel does not send the final snapshot (it would double the bytes): record
        // it in this page's copy of the trait, which is what a saved notebook keeps.
        if (outcome === "applied" && msg.final) model.set("snapshot", view.toSnapshot(msg.status));
      }
    }
    if (following) body.scrollTop = body.scrollHeight;
  };

  /** @param {any} msg */
  const onMessage = (msg) => {
    if (!msg || (msg.type !== "patch" && msg.type !== "snapshot")) return;
    queue.push(msg);
    if (!frame) frame = requestAnimationFrame(flush);
  };

  /** @param {Event} event */
  const onClick = (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const button = target.closest ? target.closest(".nbs-copy") : null;
    if (!button) return;
    const code = button.closest(".nbs-code")?.querySelector("pre");
    if (code && navigator.clipboard) {
      navigator.clipboard.writeText(code.textContent || "").then(
        () => { button.textContent = "Copied"; setTimeout(() => (button.textContent = "Copy"), 1200); },
        () => { button.textContent = "Copy failed"; },
      );
    }
  };

  const onStop = () => {
    stop.disabled = true;
    model.send({ type: "stop" });
  };
  /** @param {KeyboardEvent} event */
  const onKey = (event) => {
    if (event.key === "Escape" && !stop.disabled) onStop();
  };

  view.applySnapshot(model.get("snapshot"));
  showStatus();
  if (!FINAL.has(model.get("status"))) askForSnapshot();

  model.on("msg:custom", onMessage);
  model.on("change:status", showStatus);
  model.on("change:snapshot", () => {
    view.applySnapshot(model.get("snapshot"));
  });
  stop.addEventListener("click", onStop);
  root.addEventListener("keydown", onKey);
  view.body.addEventListener("click", onClick);

  return () => {
    if (frame) cancelAnimationFrame(frame);
    model.off("msg:custom", onMessage);
    model.off("change:status", showStatus);
    model.off("change:snapshot");
    stop.removeEventListener("click", onStop);
    root.removeEventListener("keydown", onKey);
    view.body.removeEventListener("click", onClick);
  };
}

export default { render };
