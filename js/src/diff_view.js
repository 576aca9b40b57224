// Two panes' answers, word by word: the kernel's ops shown as text (<del>, <ins>), closable.
import { button, h } from "./dom.js";

/**
 * @typedef {{el: HTMLElement, show: (a: string, b: string) => void,
 *   fill: (msg: {ops?: [string, string][], error?: string}) => void}} DiffView
 */

/**
 * The word diff's DOM from the kernel's ops: `=` kept, `-` only in the first, `+` only in the
 * second (text, never markup).
 * @param {[string, string][]} ops
 * @returns {DocumentFragment}
 */
export function diffFragment(ops) {
  const fragment = document.createDocumentFragment();
  for (const [op, text] of ops) {
    const tag = op === "-" ? "del" : op === "+" ? "ins" : "span";
    fragment.append(h(tag, "", String(text)));
  }
  return fragment;
}

/** @param {() => void} onClose @returns {DiffView} */
export function makeDiffView(onClose) {
  const el = h("section", "nbs-diff");
  el.hidden = true;
  el.setAttribute("aria-label", "Word diff of two panes");
  const bar = h("div", "nbs-diff-bar");
  const labels = h("span", "nbs-diff-labels");
  const close = button("nbstream-action nbs-diff-close", "×",
    { title: "Close the diff", label: "Close the diff" });
  close.addEventListener("click", () => {
    el.hidden = true;
    onClose();
  });
  bar.append(labels, h("span", "nbstream-spacer"), close);
  const text = h("div", "nbs-diff-text");
  el.append(bar, text);
  return {
    el,
    show(a, b) {
      labels.replaceChildren(h("del", "", a), h("span", "", " → "), h("ins", "", b));
      text.replaceChildren(h("span", "nbs-note", "Comparing…"));
      el.hidden = false;
    },
    fill(msg) {
      if (msg.error) text.replaceChildren(h("span", "nbstream-error", String(msg.error)));
      else text.replaceChildren(diffFragment(msg.ops || []));
    },
  };
}
