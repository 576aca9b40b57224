// Messages from the kernel, applied in animation frames and in order: deflated ones are
// inflated asynchronously, and a promise chain keeps every message in its place. The frames are
// the page's shared ones (scheduler.js): every view's messages are applied before any view
// reads its layout.
import { cancel as cancelJob, write } from "./scheduler.js";

/**
 * @typedef {{push: (msg: any, buffers?: DataView[]) => void, cancel: () => void}} Inbox
 */

/**
 * @param {{packed: (msg: any) => boolean,
 *   unpack: (msg: any, buffer: DataView | undefined) => Promise<void>,
 *   apply: (messages: any[]) => void, failed: () => void, frames?: boolean}} handlers
 *   `packed`: whether a message waits for `unpack` (inflating its buffer into it); `apply`: a
 *   frame's messages, in order; `failed`: a buffer did not inflate; `frames: false`: apply each
 *   message as soon as it is in order (a grid routing its panes' share: they apply in frames).
 * @returns {Inbox}
 */
export function makeInbox({ packed, unpack, apply, failed, frames = true }) {
  /** @type {any[]} */
  let queue = [];
  const flush = () => {
    const messages = queue;
    queue = [];
    apply(messages);
  };
  /** @param {any} msg */
  const enqueue = (msg) => {
    if (!frames) return apply([msg]);
    queue.push(msg);
    write(flush);
  };
  /** @type {Promise<void>} */
  let chain = Promise.resolve();
  const settled = chain;
  /** @param {any} msg @param {DataView[]} [buffers] */
  const push = (msg, buffers) => {
    if (!packed(msg) && chain === settled) {
      enqueue(msg);
      return;
    }
    const done = (chain = chain
      .then(async () => {
        await unpack(msg, buffers ? buffers[0] : undefined);
        enqueue(msg);
      })
      .catch(() => failed())
      .finally(() => {
        if (chain === done) chain = settled;
      }));
  };
  return {
    push,
    cancel: () => cancelJob(flush),
  };
}
