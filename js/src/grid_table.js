// A grid's live summary table: one row per pane (label, status, TTFT, tokens/s, output tokens,
// duration, finish or stop reason, estimated cost), sortable by any column, a checkbox per row
// to pick two panes for the diff, the label to go to the pane (or open a folded one).
import { button, h, setText } from "./dom.js";
import { money, secs } from "./format.js";

/**
 * What the table shows of a pane.
 * @typedef {{index: number, label: string, status: string, statusText: string,
 *   metrics: Record<string, any>, folded: boolean, foldable: boolean}} PaneRow
 * @typedef {{key: string, name: string, value: (p: PaneRow) => any,
 *   text?: (p: PaneRow) => string}} Column
 */

/** @param {Record<string, any>} m */
const reason = (m) => (m.stop_reason ? `stopped: ${m.stop_reason}` : m.finish_reason ?? null);

/** @type {Column[]} */
export const COLUMNS = [
  { key: "label", name: "Pane", value: (p) => p.label },
  { key: "status", name: "Status", value: (p) => p.statusText },
  { key: "ttft", name: "TTFT", value: (p) => p.metrics.ttft_s, text: (p) => secs(p.metrics.ttft_s) },
  { key: "tps", name: "Tokens/s", value: (p) => p.metrics.tokens_per_s },
  { key: "tokens", name: "Output tokens", value: (p) => p.metrics.output_tokens,
    text: (p) => `${p.metrics.output_tokens_estimated ? "~" : ""}${p.metrics.output_tokens}` },
  { key: "duration", name: "Duration", value: (p) => p.metrics.duration_s,
    text: (p) => secs(p.metrics.duration_s) },
  { key: "reason", name: "Finish / stop", value: (p) => reason(p.metrics) },
  { key: "cost", name: "Est. cost", value: (p) => p.metrics.cost_usd,
    text: (p) => money(p.metrics.cost_usd, p.metrics.cost_estimated) },
];

/** Ascending order, empty values last. @param {any} a @param {any} b */
function compare(a, b) {
  if (a == null || b == null) return a == null ? (b == null ? 0 : 1) : -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/**
 * @typedef {{tr: HTMLTableRowElement, pick: HTMLInputElement, open: HTMLButtonElement,
 *   fold: HTMLButtonElement, cells: HTMLElement[]}} Row
 */

export class SummaryTable {
  /**
   * @param {{open: (index: number) => void, fold: (index: number) => void,
   *   picked: () => void, sorted: () => void}} handlers the label clicked, the fold toggle, a
   *   checkbox changed, the order changed (the grid then calls `update`)
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.el = h("div", "nbs-table-wrap");
    this.table = h("table", "nbs-summary");
    this.head = h("tr");
    this.tbody = h("tbody");
    const thead = h("thead");
    thead.append(this.head);
    this.table.append(h("caption", "nbs-visually-hidden", "Summary of the panes"), thead, this.tbody);
    this.el.append(this.table);
    /** @type {Row[]} */
    this.rows = [];
    /** @type {{key: string, descending: boolean} | null} */
    this.sort = null;
    this.makeHead();
  }

  makeHead() {
    const pick = h("th", "nbs-pick-head");
    pick.append(h("span", "nbs-visually-hidden", "Pick two for the diff"));
    this.head.append(pick);
    for (const column of COLUMNS) {
      const th = h("th");
      th.setAttribute("scope", "col");
      th.setAttribute("aria-sort", "none");
      th.dataset.key = column.key;
      const sort = button("nbs-sort", column.name, { title: `Sort by ${column.name}` });
      sort.addEventListener("click", () => this.sortBy(column.key));
      th.append(sort);
      this.head.append(th);
    }
  }

  /** One row per pane (made once). @param {PaneRow[]} panes */
  setRows(panes) {
    this.tbody.replaceChildren();
    this.rows = panes.map((pane) => this.makeRow(pane));
    this.update(panes);
  }

  /** @param {PaneRow} pane @returns {Row} */
  makeRow(pane) {
    const tr = /** @type {HTMLTableRowElement} */ (h("tr"));
    tr.dataset.pane = String(pane.index);
    const pick = /** @type {HTMLInputElement} */ (h("input"));
    pick.type = "checkbox";
    pick.setAttribute("aria-label", `Pick ${pane.label} for the diff`);
    pick.addEventListener("change", () => this.handlers.picked());
    const open = button("nbs-row-label", pane.label, { title: "Go to this pane" });
    open.addEventListener("click", () => this.handlers.open(pane.index));
    const fold = button("nbs-fold", "▸", { label: `Show the answer of ${pane.label}` });
    fold.addEventListener("click", () => this.handlers.fold(pane.index));
    const first = h("td");
    first.append(pick);
    const label = h("th", "nbs-row-head");
    label.setAttribute("scope", "row");
    label.append(fold, open);
    const cells = COLUMNS.slice(1).map(() => h("td"));
    tr.append(first, label, ...cells);
    this.tbody.append(tr);
    return { tr, pick, open, fold, cells };
  }

  /** Show the panes' current values (only changed text is written). @param {PaneRow[]} panes */
  update(panes) {
    for (const pane of panes) {
      const row = this.rows[pane.index];
      if (!row) continue;
      if (row.tr.dataset.status !== pane.status) row.tr.dataset.status = pane.status;
      if (row.fold.hidden !== !pane.foldable) row.fold.hidden = !pane.foldable;
      setText(row.fold, pane.folded ? "▸" : "▾");
      const expanded = String(!pane.folded);
      if (row.fold.getAttribute("aria-expanded") !== expanded) row.fold.setAttribute("aria-expanded", expanded);
      COLUMNS.slice(1).forEach((column, i) => {
        const value = column.value(pane);
        setText(row.cells[i], value == null ? "–" : column.text ? column.text(pane) : String(value));
      });
    }
    if (this.sort) this.order(panes);
  }

  /** Sort by a column: ascending, then descending. @param {string} key */
  sortBy(key) {
    const descending = this.sort?.key === key ? !this.sort.descending : false;
    this.sort = { key, descending };
    for (const th of /** @type {NodeListOf<HTMLElement>} */ (this.head.querySelectorAll("th[data-key]"))) {
      const sorted = th.dataset.key === key;
      th.setAttribute("aria-sort", sorted ? (descending ? "descending" : "ascending") : "none");
    }
    this.handlers.sorted();
  }

  /** Put the rows in the sort's order (moving them, never re-creating). @param {PaneRow[]} panes */
  order(panes) {
    if (!this.sort) return;
    const { key, descending } = this.sort;
    const column = /** @type {Column} */ (COLUMNS.find((c) => c.key === key));
    const sorted = [...panes].sort((a, b) => {
      const [x, y] = [column.value(a), column.value(b)];
      const by = x == null || y == null ? compare(x, y) : (descending ? -1 : 1) * compare(x, y);
      return by || a.index - b.index;
    });
    sorted.forEach((pane, i) => {
      const row = this.rows[pane.index];
      if (row && this.tbody.children[i] !== row.tr) this.tbody.insertBefore(row.tr, this.tbody.children[i] || null);
    });
  }

  /** The panes picked for the diff, in pane order. */
  picked() {
    return this.rows.map((row, i) => (row.pick.checked ? i : -1)).filter((i) => i >= 0);
  }
}
