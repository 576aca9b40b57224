// Where a widget's live DOM lives in the page: a view re-rendered in place takes over its
// predecessor's DOM, and a view whose display became the static copy moves into it.
import { nextFrame } from "./dom.js";
import { FINAL } from "./format.js";

/** @typedef {import("./stream_widget.js").Instance} Instance */
/** @typedef {(context: {model: DurableModel, el: HTMLElement}) => Instance} Builder */

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
 * @param {Builder} build makes a new instance (a stream's view or a grid's)
 */
export function render({ model, el }, build) {
  const key = String(model.get("_key") || "");
  /** @type {Set<Instance>} */
  const live = LIVE.get(key) || new Set();
  LIVE.set(key, live);
  dropAdoptedGone(live);
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
  const remember = () => rememberReader(current);
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

/**
 * Instances that moved into a static copy which has since left the page (the cell was
 * cleared or run again) are over.
 * @param {Set<Instance>} live
 */
function dropAdoptedGone(live) {
  for (const old of live) {
    if (PLACE.get(old)?.adopted && !old.root.isConnected) {
      old.teardown(); // (`live` stays registered: the view being rendered joins it)
      live.delete(old);
    }
  }
}

/**
 * Remember the reader's scroll and selection while this view is in the page.
 * @param {Instance} current
 */
function rememberReader(current) {
  if (!current.root.isConnected) return;
  place(current).area = current.root.closest(OUTPUT_AREA);
  current.scrollTop = current.body.scrollTop;
  const selected = document.getSelection();
  const inside = selected && selected.rangeCount > 0 && !selected.isCollapsed
    && current.root.contains(selected.anchorNode) && current.root.contains(selected.focusNode);
  current.selection = inside && selected.anchorNode && selected.focusNode
    ? [selected.anchorNode, selected.anchorOffset, selected.focusNode, selected.focusOffset]
    : null;
}
