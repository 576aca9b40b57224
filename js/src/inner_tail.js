// The open block of a markdown part's tail, committed inside (nbstream/_inner_wire.py): its
// container is built once, committed children (table rows, list items, paragraph pieces) are
// appended into it and never re-created, and only the open children and what follows the
// block are replaced each frame. The container is built where it stays, after the committed
// blocks (what follows it goes in the tail): when the block ends nothing moves (a moved node
// is laid out afresh: ~300 ms for a 2,000-row table).
import { ChildGroups } from "./child_groups.js";
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
   * Build the container at the end of `blocks` (the part's committed blocks); what follows
   * the block goes in `holder` (the part's tail element, emptied).
   * @param {HTMLElement} blocks
   * @param {HTMLElement} holder
   * @param {InnerSpec} spec
   */
  constructor(blocks, holder, spec) {
    this.holder = holder;
    this.open = String(spec.open || "");
    this.close = String(spec.close || "");
    /** @type {string[]} */
    this.children = [];
    const fragment = safeFragment(this.open + this.close);
    /** @type {ChildNode[]} the container's own top-level nodes */
    this.nodes = [...fragment.childNodes];
    holder.replaceChildren();
    blocks.append(fragment);
    this.inner = innermost(this.nodes) || blocks;
    /** a table's rows and a list's items go into groups (child_groups.js) */
    this.groups = ChildGroups.for(/** @type {HTMLElement} */ (this.inner));
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
    for (const html of pieces) {
      const fragment = safeFragment(html);
      if (this.groups) {
        this.inner = this.groups.append(fragment, this.openNodes);
      } else {
        const anchor = this.openNodes.find((node) => node.parentNode === this.inner) || null;
        this.inner.insertBefore(fragment, anchor);
      }
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

  /** The block is dropped (the kernel found it is not one): its nodes leave the page. */
  remove() {
    removeAll(this.allNodes());
    removeAll(this.afterNodes);
  }

  /**
   * The block ended: `rest` takes the open children's place, what followed it leaves the
   * tail, and the container's nodes, where they are, are a committed block now.
   * @param {string} rest
   * @returns {{nodes: ChildNode[], html: string}}
   */
  finish(rest) {
    this.setOpen(rest);
    removeAll(this.afterNodes);
    this.afterNodes = [];
    this.afterHtml = "";
    return { nodes: this.allNodes(), html: this.html(rest) };
  }

  /** The container's top-level nodes, with the groups made after it (a list's). */
  allNodes() {
    return this.groups ? this.groups.nodes(this.nodes) : this.nodes;
  }
}
