// The answer's frame: the body (or the raw markdown), following the end as it grows unless the
// reader scrolled up, with a "Jump to latest" button then.
import { button, h } from "./dom.js";

/**
 * @typedef {{el: HTMLElement, rawBox: HTMLPreElement, jump: HTMLButtonElement,
 *   following: () => boolean, afterUpdate: () => void}} Frame
 */

/**
 * @param {HTMLElement} body the stream view's body
 * @returns {Frame}
 */
export function makeFrame(body) {
  const el = h("div", "nbstream-frame");
  const rawBox = /** @type {HTMLPreElement} */ (h("pre", "nbstream-raw"));
  rawBox.hidden = true;
  const jump = button("nbstream-jump", "↓ Jump to latest");
  jump.hidden = true;
  el.append(body, rawBox, jump);
  let following = true;
  const nearBottom = () => body.scrollHeight - body.scrollTop - body.clientHeight < 24;
  const onScroll = () => {
    following = nearBottom();
    jump.hidden = following;
  };
  const onJump = () => {
    following = true;
    body.scrollTop = body.scrollHeight;
    jump.hidden = true;
  };
  jump.addEventListener("click", onJump);
  body.addEventListener("scroll", onScroll);
  return {
    el,
    rawBox,
    jump,
    following: () => following,
    /** After new content: keep following the end, or offer to jump there. */
    afterUpdate() {
      if (following) body.scrollTop = body.scrollHeight;
      jump.hidden = following || nearBottom();
    },
  };
}
