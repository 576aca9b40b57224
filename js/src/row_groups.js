// A long table streaming in, laid out by rows. Chrome lays a table out whole: each row appended
// to a 2,000-row table costs a layout and paint of all of them (~20 ms a frame). Once a table's
// open block has ROWS_PER_GROUP committed rows and the page has laid it out, its columns keep the
// widths they have then (`--nbs-cols`), each row is a grid of those columns (widget.css,
// `table.nbs-by-rows`), and committed rows go into a new <tbody> every ROWS_PER_GROUP rows:
// a frame lays out the last group only, and paints the groups on screen. The table stays one <table> (its header, rows and
// cells, for a screen reader, a copy or find-in-page); the groups stay when the block ends (one
// <tbody> again would lay all rows out afresh: ~300 ms).

/** Committed rows in a <tbody> before the next one starts. */
export const ROWS_PER_GROUP = 100;

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
 * Lay `table` out by rows, with the column widths it has now. False when it has no layout.
 * @param {HTMLTableElement} table
 * @returns {boolean}
 */
function layOutByRows(table) {
  if (table.classList.contains("nbs-by-rows")) return true;
  const widths = columnWidths(table);
  if (!widths) return false;
  table.style.setProperty("--nbs-cols", widths.map((w) => `${Math.ceil(w)}px`).join(" "));
  table.classList.add("nbs-by-rows");
  return true;
}

/**
 * A full group is laid out and painted only when on screen (`content-visibility: auto`, at
 * the height it has now): a frame's paint skips the rows scrolled past (~11 ms -> ~3 ms).
 * @param {HTMLTableSectionElement} group
 */
function settle(group) {
  const height = group.getBoundingClientRect().height;
  if (height <= 0) return;
  group.style.setProperty("--nbs-rows-height", `${Math.ceil(height)}px`);
  group.classList.add("nbs-rows-done");
}

/** The rows of a table's open block, committed into row groups. */
export class RowGroups {
  /** @param {HTMLTableSectionElement} tbody the block's first <tbody> */
  constructor(tbody) {
    this.tbody = tbody;
    /** committed rows in `tbody` */
    this.rows = 0;
  }

  /**
   * Append the committed rows of `fragment` before `anchor` (the open rows, in the last
   * group), starting a new group when this one is full; returns the <tbody> now last.
   * @param {DocumentFragment} fragment
   * @param {() => ChildNode[]} openRows the open rows, to move into a new group
   * @returns {HTMLTableSectionElement}
   */
  append(fragment, openRows) {
    for (const node of [...fragment.childNodes]) {
      if (node.nodeType === 1 && this.rows >= ROWS_PER_GROUP) this.next(openRows());
      const anchor = openRows().find((open) => open.parentNode === this.tbody) || null;
      this.tbody.insertBefore(node, anchor);
      if (node.nodeType === 1) this.rows += 1;
    }
    return this.tbody;
  }

  /** @param {ChildNode[]} open */
  next(open) {
    const table = this.tbody.closest("table");
    if (!table || !layOutByRows(table)) return; // no layout yet: the group grows, tried again
    settle(this.tbody);
    const group = /** @type {HTMLTableSectionElement} */ (document.createElement("tbody"));
    table.append(group);
    for (const node of open) if (node.parentNode === this.tbody) group.append(node);
    this.tbody = group;
    this.rows = 0;
  }
}
