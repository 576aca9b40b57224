// A grid pane as a stream view sees its model: the same get / on / off / send as a widget's,
// fed by the grid (its share of the grid's frames, its state), sending through the grid's model
// with `pane: i` added. One code path builds a pane and a widget (stream_widget.js).

/** @typedef {import("./stream_widget.js").ViewModel} ViewModel */

export class PaneModel {
  /**
   * @param {number} index the pane's place in the grid
   * @param {(msg: any) => void} send to the kernel, through the grid's model
   * @param {Record<string, any>} state `title`, `status`, `_can_rerun`, `_attempts`, `_notice`
   */
  constructor(index, send, state) {
    this.index = index;
    this.toGrid = send;
    /** @type {Record<string, any>} */
    this.state = { ...state };
    /** @type {Map<string, Set<Function>>} */
    this.listeners = new Map();
  }

  /** @param {string} name */
  get(name) {
    return this.state[name];
  }

  /** @param {string} name @param {Function} cb */
  on(name, cb) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    /** @type {Set<Function>} */ (this.listeners.get(name)).add(cb);
  }

  /** @param {string} name @param {Function} cb */
  off(name, cb) {
    this.listeners.get(name)?.delete(cb);
  }

  /** @param {any} msg */
  send(msg) {
    this.toGrid({ ...msg, pane: this.index });
  }

  /** Change a value of the pane's state (listeners hear `change:<name>` when it differs).
   * @param {string} name @param {any} value */
  set(name, value) {
    if (this.state[name] === value) return;
    this.state[name] = value;
    this.emit(`change:${name}`);
  }

  /** A message of the pane's (from a frame), as the widget's `msg:custom`. @param {any} msg */
  deliver(msg) {
    this.emit("msg:custom", msg);
  }

  /** @param {string} name @param {...any} args */
  emit(name, ...args) {
    for (const cb of this.listeners.get(name) || []) cb(...args);
  }
}
