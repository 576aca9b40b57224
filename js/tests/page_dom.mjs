// What the node scripts that apply kernel-made patches share (apply_patches.mjs,
// inner_patches.mjs): a jsdom page, the real StreamView, the page's HTML parsed without the
// sanitiser, and an id per DOM node (a node kept across patches keeps its id).
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = window;
globalThis.document = window.document;
export const { StreamView } = await import("../src/widget.js");

/** The same HTML parsed without the page's sanitiser, serialised the way the DOM does. */
export function parsed(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const holder = document.createElement("div");
  holder.append(template.content);
  return holder.innerHTML;
}

// Each DOM node gets an id the first time it is seen: a node kept across a patch keeps its id.
const ids = new WeakMap();
let nextId = 0;
export const idOf = (node) => {
  if (!ids.has(node)) ids.set(node, ++nextId);
  return ids.get(node);
};
