// One output part's DOM: a text or reasoning part (committed blocks + open tail, kernel HTML)
// or a plain part (tool call, hosted tool, refusal: text only).
import { h } from "./dom.js";
import { prettyJson } from "./format.js";
import { BLOCKS_PER_GROUP, nextBlocks } from "./child_groups.js";
import { InnerTail } from "./inner_tail.js";
import { holds } from "./integrity.js";
import { safeFragment, safeHref } from "./sanitize.js";

/** @typedef {import("./integrity.js").PartOp} PartOp */

const IMAGE_B64 = /^[A-Za-z0-9+/=\s]+$/;

/** One output part's DOM and what it holds. */
export class PartView {
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
    /** @type {ChildNode[][]} each committed block's top-level nodes (for `settle`) */
    this.blockNodes = [];
    /** @type {InnerTail | null} the tail's open block, committed inside (inner_tail.js) */
    this.innerTail = null;
    this.userToggled = false;
    this.el = h("div", `nbs-part nbs-${this.kind}`);
    this.el.dataset.part = String(op.id);
    if (this.kind === "text" || this.kind === "reasoning") {
      this.blocks = h("div", "nbs-blocks");
      /** @type {HTMLElement[]} the containers of committed blocks after `blocks` (a long
       * answer's, 100 blocks each: child_groups.js) */
      this.more = [];
      /** where committed blocks go now, and how many it holds */
      this.shelf = this.blocks;
      this.shelved = 0;
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
    if (this.blocks) {
      const count = (op.reset ? 0 : this.blockHtml.length) + (op.append || []).length;
      const settles = (op.settle || []).every(([i]) => Number.isInteger(i) && i >= 0 && i < count);
      return settles && (op.tail === undefined && !op.from_tail ? true : holds(this.tailHtml, op));
    }
    return op.text === undefined || holds(this.text, op);
  }

  /** @param {PartOp} op */
  apply(op) {
    if (op.info !== undefined) this.info = op.info || {};
    if (op.done !== undefined) this.done = op.done;
    if (this.blocks && this.tail) {
      if (op.reset) {
        if (this.innerTail) this.innerTail.remove();
        this.blocks.replaceChildren();
        for (const more of this.more) more.remove();
        this.blocks.classList.remove("nbs-group-done");
        this.more = [];
        this.shelf = this.blocks;
        this.shelved = 0;
        this.blockHtml = [];
        this.blockNodes = [];
        this.tailHtml = "";
        this.innerTail = null;
      }
      const previousTail = this.tailHtml;
      (op.append || []).forEach((piece, i) => {
        if (i === 0 && op.from_inner && this.innerTail) {
          const { nodes, html } = this.innerTail.finish(piece); // the open block, ended: it
          this.innerTail = null; // is already the last of the blocks, and stays
          this.tailHtml = "";
          this.blockNodes.push(nodes);
          this.blockHtml.push(html);
          return;
        }
        const html = i === 0 && op.from_tail ? previousTail.slice(0, op.from_tail) + piece : piece;
        const fragment = safeFragment(html);
        this.blockNodes.push([...fragment.childNodes]);
        this.shelve(fragment);
        this.blockHtml.push(html);
      });
      for (const [index, html] of op.settle || []) this.settle(index, html);
      if (op.inner !== undefined) { // a new open block (or none): the tail starts empty
        if (this.innerTail) this.innerTail.remove();
        this.innerTail = op.inner ? new InnerTail(this.shelf, this.tail, op.inner) : null;
        if (!op.inner) this.tail.replaceChildren();
        this.tailHtml = "";
      }
      if (op.inner_append && this.innerTail) this.innerTail.append(op.inner_append);
      // No `tail` means the open tail is unchanged (even when blocks were appended).
      if (op.tail !== undefined) {
        this.tailHtml = this.tailHtml.slice(0, op.keep || 0) + op.tail;
        if (this.innerTail) this.innerTail.setOpen(this.tailHtml);
        else this.tail.replaceChildren(safeFragment(this.tailHtml));
      }
      if (op.after !== undefined && this.innerTail) this.innerTail.setAfter(op.after);
    } else if (op.text !== undefined) {
      this.text = this.text.slice(0, op.keep || 0) + op.text;
    }
    this.decorate(op.info !== undefined);
  }

  /**
   * Append a committed block where committed blocks go now: a new container after a full one
   * (once the page has laid it out), so a frame lays out the last hundred blocks, not all.
   * @param {DocumentFragment} fragment
   */
  shelve(fragment) {
    if (this.shelved >= BLOCKS_PER_GROUP && !this.innerTail) {
      const next = nextBlocks(this.shelf);
      if (next) {
        this.more.push(next);
        this.shelf = next;
        this.shelved = 0;
      }
    }
    this.shelved += fragment.childElementCount; // (a piece may hold several blocks)
    this.shelf.append(fragment);
  }

  /**
   * Replace committed block `index` (a late reference-style definition changed its links):
   * its own nodes only; every other block's nodes stay, and a selection in them with them.
   * @param {number} index
   * @param {string} html
   */
  settle(index, html) {
    if (!this.blocks) return;
    const old = this.blockNodes[index] || [];
    const fragment = safeFragment(html);
    const nodes = [...fragment.childNodes];
    const next = this.blockNodes.slice(index + 1).find((list) => list.length > 0);
    const open = this.innerTail ? this.innerTail.nodes[0] : null; // (after the blocks)
    const anchor = old.find((node) => node.parentNode) || (next ? next[0] : open);
    const parent = anchor && anchor.parentNode ? anchor.parentNode : this.shelf;
    parent.insertBefore(fragment, anchor && anchor.parentNode ? anchor : null);
    for (const node of old) node.remove();
    this.blockNodes[index] = nodes;
    this.blockHtml[index] = html;
  }

  get hasContent() {
    return this.blockHtml.length > 0 || this.tailHtml !== "" || this.innerTail !== null
      || this.text !== "";
  }

  /** The tail's HTML as shown (with the open block's container and committed children). */
  get shownTail() {
    return this.innerTail ? this.innerTail.html(this.tailHtml) : this.tailHtml;
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
    if (!this.blocks) return { ...entry, text: this.text };
    const inner = this.innerTail;
    return { ...entry, blocks: [...this.blockHtml], tail: this.shownTail,
      ...(inner ? { inner: { open: inner.open, close: inner.close, children: [...inner.children],
        tail: this.tailHtml, after: inner.afterHtml } } : {}) };
  }

  /** @param {any} entry */
  static fromSnapshot(entry) {
    const view = new PartView(entry);
    const inner = entry.inner && typeof entry.inner.open === "string" ? entry.inner : null;
    view.apply({ id: entry.id, info: entry.info, done: entry.done, append: entry.blocks || [],
      keep: 0, tail: (inner ? inner.tail : entry.tail) || "", text: entry.text,
      ...(inner ? { inner, after: inner.after || "" } : {}) });
    return view;
  }
}
