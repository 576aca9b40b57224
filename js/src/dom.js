// Small DOM helpers shared by every view.

/** A view's math is typeset already (MathML from the kernel): the host's MathJax must leave
 * it alone, or it reads the `$` of prices as TeX (MathJax 3's class, and MathJax 2's). */
export const NOT_TYPESET = "mathjax_ignore tex2jax_ignore";

/**
 * An element with a class and text (text, never markup).
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * A `type="button"` button.
 * @param {string} className
 * @param {string} text
 * @param {{title?: string, label?: string}} [options] tooltip and aria-label
 * @returns {HTMLButtonElement}
 */
export function button(className, text, { title, label } = {}) {
  const node = /** @type {HTMLButtonElement} */ (h("button", className, text));
  node.type = "button";
  if (title !== undefined) node.title = title;
  if (label !== undefined) node.setAttribute("aria-label", label);
  return node;
}

/**
 * Set an element's text, unless it already reads so (writing the same text still replaces the
 * text node, and makes the page lay the element out again).
 * @param {HTMLElement} node
 * @param {string} text
 */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * Call `fn` in the next frame (unless the page is gone: jsdom once the tests are over).
 * @param {FrameRequestCallback} fn
 */
export function nextFrame(fn) {
  if (typeof requestAnimationFrame === "function") {
    requestAnimationFrame((time) => typeof document !== "undefined" && fn(time));
  }
}
