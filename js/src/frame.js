// The answer's frame: the body (or the raw markdown), following the end as it grows unless the
// reader scrolled up, with a "Jump to latest" button then. Following reads the layout: it runs
// in the shared frame's read phase, after every view has written its DOM (scheduler.js).
import { button, h } from "./dom.js";
import { afterWrites, cancel } from "./scheduler.js";

/**
 * @typedef {{el: HTMLElement, rawBox: HTMLPreElement, jump: HTMLButtonElement,
 *   following: () => boolean, afterUpdate: () => void, teardown: () => void}} Frame
 */

/**
 * @param {HTMLElement} body the stream view's body
 * @param {HTMLElement} [host] an ancestor whose rendering the page may skip while it is off
 *   screen (`content-visibility: auto`: a grid's panes); following waits until it is shown,
 *   since reading the layout of skipped content would lay it out
 * @returns {Frame}
 */
export function makeFrame(body, host) {
  const el = h("div", "nbstream-frame");
  const rawBox = /** @type {HTMLPreElement} */ (h("pre", "nbstream-raw"));
  rawBox.hidden = true;
  const jump = button("nbstream-jump", "↓ Jump to latest");
  jump.hidden = true;
  el.append(body, rawBox, jump);
  let following = true;
  let skipped = false;
  const nearBottom = () => body.scrollHeight - body.scrollTop - body.clientHeight < 24;
  /** @param {boolean} hidden */
  const showJump = (hidden) => {
    if (jump.hidden !== hidden) jump.hidden = hidden; // (an unchanged write dirties no layout)
  };
  const onScroll = () => {
    following = nearBottom();
    showJump(following);
  };
  const onJump = () => {
    following = true;
    body.scrollTop = body.scrollHeight;
    showJump(true);
  };
  const follow = () => {
    if (skipped) return; // done when it is shown again
    if (following) {
      const end = body.scrollHeight - body.clientHeight;
      if (body.scrollTop < end) body.scrollTop = end;
      showJump(true);
    } else {
      showJump(nearBottom());
    }
  };
  jump.addEventListener("click", onJump);
  body.addEventListener("scroll", onScroll);
  /** @param {Event} event */
  const onSkip = (event) => {
    skipped = Boolean(/** @type {any} */ (event).skipped);
    if (!skipped) afterWrites(follow);
  };
  host?.addEventListener("contentvisibilityautostatechange", onSkip);
  return {
    el,
    rawBox,
    jump,
    following: () => following,
    /** After new content: keep following the end, or offer to jump there (in the shared
     * frame's read phase). */
    afterUpdate: () => afterWrites(follow),
    teardown: () => cancel(follow),
  };
}
