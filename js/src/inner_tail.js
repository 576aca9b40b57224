// The open block of a markdown part's tail, committed inside (nbstream/_inner_wire.py): its
// container is built once, committed children (table rows, list items, paragraph pieces) are
// appended into it and never re-created, and only the open children and what follows the
// block are replaced each frame.
import { safeFragment } from "./sanitize.js";

/** @typedef {{open: string, close: string, children?: string[]}} InnerSpec */

/**
 * The element children go into: the container's last element, descended through last
 * elements (a table's tbody, a list, a paragraph).
 * @param {ChildNode[]} nodes
 * @returns {Element | null}
 */
function innermost(nodes) {
  let element = /** @type {Element | null} */ (nodes.find((node) => node.nodeType === 1) || null);
  while (element && element.lastElementChild) element = element.lastElementChild;
  return element;
}

/** @param {ChildNode[]} nodes */
function removeAll(nodes) {
  for (const node of nodes) node.remove();
}

export class InnerTail {
  /**
   * Build the container in `holder` (the part's tail element), replacing what it held.
   * @param {HTMLElement} holder
   * @param {InnerSpec} spec
   */
  constructor(holder, spec) {
    this.holder = holder;
    this.open = String(spec.open || "");
    this.close = String(spec.close || "");
    /** @type {string[]} */
    this.children = [];
    const fragment = safeFragment(this.open + this.close);
    /** @type {ChildNode[]} the container's own top-level nodes */
    this.nodes = [...fragment.childNodes];
    holder.replaceChildren(fragment);
    this.inner = innermost(this.nodes) || holder;
    /** @type {ChildNode[]} */
    this.openNodes = [];
    /** @type {ChildNode[]} */
    this.afterNodes = [];
    this.afterHtml = "";
    this.append(spec.children || []);
  }

  /**
   * Append committed children, before the open ones.
   * @param {string[]} pieces
   */
  append(pieces) {
    const anchor = this.openNodes.find((node) => node.parentNode === this.inner) || null;
    for (const html of pieces) {
      this.inner.insertBefore(safeFragment(html), anchor);
      this.children.push(html);
    }
  }

  /**
   * Replace the open children.
   * @param {string} html
   */
  setOpen(html) {
    removeAll(this.openNodes);
    const fragment = safeFragment(html);
    this.openNodes = [...fragment.childNodes];
    this.inner.append(fragment);
  }

  /**
   * Replace what follows the block in the tail.
   * @param {string} html
   */
  setAfter(html) {
    removeAll(this.afterNodes);
    const fragment = safeFragment(html);
    this.afterNodes = [...fragment.childNodes];
    this.afterHtml = html;
    this.holder.append(fragment);
  }

  /**
   * The tail HTML shown, given the open children's HTML.
   * @param {string} open
   */
  html(open) {
    return this.open + this.children.join("") + open + this.close + this.afterHtml;
  }

  /**
   * The block ended: `rest` takes the open children's place, and the container's nodes
   * leave the tail (to be moved into the committed blocks, not re-created).
   * @param {string} rest
   * @returns {{nodes: ChildNode[], html: string}}
   */
  finish(rest) {
    this.setOpen(rest);
    removeAll(this.afterNodes);
    this.afterNodes = [];
    this.afterHtml = "";
    return { nodes: this.nodes, html: this.html(rest) };
  }
}
