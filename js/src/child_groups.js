import { lastLineStart } from "./last_line.js";

// Long tables, lists, code blocks and paragraphs streaming in, committed in groups. Chrome
// lays such a block out whole: each row appended to a 2,000-row table costs a layout and paint
// of all of them (~20 ms a frame; a 3,000-item list or a 100 KB paragraph ~14 ms). Once the
// open block has GROUP_SIZE committed children (TEXT_GROUP_CHARS of text) and the page has laid
// it out, the next ones go into a new group, and a full group is laid out and painted only
// when on screen (`content-visibility: auto`, at the size it has then): a frame costs the
// last group only.
//
// - A table's groups are its <tbody> elements, and the table is laid out by rows: its columns
//   keep the widths they have then (`--nbs-cols`), each row a grid of them (widget.css,
//   `table.nbs-by-rows`). It stays one <table> (header, rows and cells, for a screen reader, a
//   copy or find-in-page).
// - A code block's groups are blocks of its lines in its <code> (the <code> holds the first).
// - A paragraph's groups are blocks in its <p>, each starting where a line started
//   (last_line.js): the text is split there, and every line stays as it was.
// - A list's groups are lists of the same kind after it (an ordered one goes on counting with
//   `start`): an item's marker is painted outside its box, and a group inside the list would
//   clip it and stop the count.
// The groups stay when the block ends: one container again would lay everything out afresh
// (~300 ms for a 2,000-row table).

/** Committed children (rows, items) in a group before the next one starts. */
export const GROUP_SIZE = 100;
/** Characters of committed code lines or paragraph text in a group before the next one. */
export const TEXT_GROUP_CHARS = 4000;

/**
 * The widths of the table's columns as laid out now, from its first row; `null` when the
 * table is not laid out (a hidden output, a page without layout).
 * @param {HTMLTableElement} table
 * @returns {number[] | null}
 */
function columnWidths(table) {
  const first = table.rows[0];
  if (!first || first.cells.length === 0) return null;
  const widths = [...first.cells].map((cell) => cell.getBoundingClientRect().width);
  return widths.every((width) => width > 0) ? widths : null;
}

/**
 * A full group is laid out and painted only when on screen, at the size it has now.
 * @param {HTMLElement} group
 * @returns {boolean} false when the page has not laid it out
 */
function settle(group) {
  const { width, height } = group.getBoundingClientRect();
  if (height <= 0) return false;
  group.style.setProperty("--nbs-group-width", `${Math.ceil(width)}px`);
  group.style.setProperty("--nbs-group-height", `${Math.ceil(height)}px`);
  group.classList.add("nbs-group-done");
  return true;
}

/**
 * The next group of a table (a <tbody>), laying the table out by rows the first time; null
 * when the table is not laid out.
 * @param {HTMLElement} tbody the full group
 * @returns {HTMLElement | null}
 */
function nextRowGroup(tbody) {
  const table = /** @type {HTMLTableElement | null} */ (tbody.closest("table"));
  if (!table) return null;
  if (!table.classList.contains("nbs-by-rows")) {
    const widths = columnWidths(table);
    if (!widths) return null;
    table.style.setProperty("--nbs-cols", widths.map((w) => `${Math.ceil(w)}px`).join(" "));
    table.classList.add("nbs-by-rows");
  }
  if (!settle(tbody)) return null;
  const group = document.createElement("tbody");
  table.append(group);
  return group;
}

/**
 * The next group of a list: a list of the same kind after it; null when it is not laid out.
 * @param {HTMLElement} list the full group
 * @param {number} items its items
 * @returns {HTMLElement | null}
 */
function nextListGroup(list, items) {
  if (!settle(list)) return null;
  const group = document.createElement(list.localName);
  for (const name of list.classList) if (!name.startsWith("nbs-")) group.classList.add(name);
  if (list.localName === "ol") {
    const start = /** @type {HTMLOListElement} */ (list).start;
    /** @type {HTMLOListElement} */ (group).start = start + items;
    fitMarkers(list, start + items - 1);
    fitMarkers(group, start + items + GROUP_SIZE - 1);
  }
  list.classList.add("nbs-list-continues");
  group.classList.add("nbs-list-continued");
  list.after(group);
  return group;
}

/**
 * Room for the markers of an ordered list up to `last` (a group paints nothing outside its
 * box: a wider marker would be cut).
 * @param {HTMLElement} list
 * @param {number} last
 */
function fitMarkers(list, last) {
  const digits = String(Math.abs(last)).length + (last < 0 ? 1 : 0);
  if (digits > 2) list.style.paddingInlineStart = `${(digits + 1) * 0.6 + 0.2}em`;
}

/**
 * The next group of a code block's lines: a block of lines in its <code> (lines end in a line
 * break: a block boundary there adds none); null when the code is not laid out.
 * @param {HTMLElement} group the full group (the <code> itself the first time)
 * @returns {HTMLElement | null}
 */
function nextLineGroup(group) {
  const code = group.closest("code");
  if (!code) return null;
  if (group !== code ? !settle(group) : code.getBoundingClientRect().height <= 0) return null;
  const lines = document.createElement("span");
  lines.className = "nbs-code-lines";
  code.append(lines);
  return lines;
}

/**
 * The next group of a paragraph: a block in its <p> from where the last line of the full
 * group starts (its text split there); null when it is not laid out or the line starts
 * inside an element (the next piece tries again).
 * @param {HTMLElement} group the full group (the <p> itself the first time)
 * @param {ChildNode[]} open the open children (not committed: they move anyway)
 * @returns {HTMLElement | null}
 */
function nextParagraphGroup(group, open) {
  const paragraph = group.closest("p");
  const committed = [...group.childNodes].filter((node) => !open.includes(node));
  const start = paragraph && lastLineStart(committed);
  if (!paragraph || !start) return null;
  const moving = committed.slice(committed.indexOf(start.node)); // the last line, on
  if (start.offset > 0) moving[0] = /** @type {Text} */ (start.node).splitText(start.offset);
  const lines = document.createElement("span");
  lines.className = "nbs-para-lines";
  paragraph.append(lines);
  lines.append(...moving);
  if (group !== paragraph) settle(group);
  return lines;
}

/** Committed top-level blocks in a container before the next one starts. */
export const BLOCKS_PER_GROUP = 100;

/**
 * The next container of a part's committed blocks: a `.nbs-blocks` after the full one, which
 * is painted only on screen from now on; null when the page has not laid it out. An answer of
 * a thousand blocks then lays out the last hundred each frame, not all of them.
 * @param {HTMLElement} full
 * @returns {HTMLElement | null}
 */
export function nextBlocks(full) {
  if (!settle(full)) return null;
  const next = document.createElement("div");
  next.className = "nbs-blocks nbs-blocks-more";
  full.after(next);
  return next;
}

/** The committed children of an open table's, list's, code or paragraph block, in groups. */
export class ChildGroups {
  /**
   * @param {HTMLElement} container the block's <tbody>, <ul>, <ol>, <code> or <p>
   * @returns {ChildGroups | null} null for another container
   */
  static for(container) {
    return ["tbody", "ul", "ol", "code", "p"].includes(container.localName)
      ? new ChildGroups(container) : null;
  }

  /** @param {HTMLElement} container */
  constructor(container) {
    this.first = container;
    this.group = container;
    /** committed children in `group` */
    this.count = 0;
    /** @type {HTMLElement[]} the groups made after the first (a list's are its siblings) */
    this.made = [];
  }

  /**
   * Append the committed children of `fragment` before the open ones (in the last group),
   * starting a new group when this one is full; returns the group now last.
   * @param {DocumentFragment} fragment
   * @param {ChildNode[]} open the open children, moved into a new group
   * @returns {HTMLElement}
   */
  append(fragment, open) {
    const kind = this.first.localName;
    if (kind === "code" || kind === "p") { // a piece is lines or words; its nodes, parts
      if (this.count >= TEXT_GROUP_CHARS) this.next(open);
      const size = fragment.textContent?.length || 0;
      this.group.insertBefore(fragment, open.find((child) => child.parentNode === this.group) || null);
      this.count += size;
      return this.group;
    }
    for (const node of [...fragment.childNodes]) {
      if (node.nodeType === 1 && this.count >= GROUP_SIZE) this.next(open);
      const anchor = open.find((child) => child.parentNode === this.group) || null;
      this.group.insertBefore(node, anchor);
      if (node.nodeType === 1) this.count += 1;
    }
    return this.group;
  }

  /** @param {ChildNode[]} open */
  next(open) {
    const kind = this.first.localName;
    const group = kind === "code" ? nextLineGroup(this.group)
      : kind === "p" ? nextParagraphGroup(this.group, open)
        : kind === "tbody" ? nextRowGroup(this.group) : nextListGroup(this.group, this.count);
    if (!group) return; // not laid out yet: the group grows, and the next child tries again
    for (const node of open) if (node.parentNode === this.group) group.append(node);
    this.made.push(group);
    this.group = group;
    this.count = 0;
  }

  /** The block's own top-level nodes, with a list's groups after it. */
  nodes(/** @type {ChildNode[]} */ own) {
    if (!["ul", "ol"].includes(this.first.localName) || this.made.length === 0) return own;
    const at = own.indexOf(this.first) + 1;
    return [...own.slice(0, at), ...this.made, ...own.slice(at)];
  }
}
