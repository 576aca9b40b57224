// Where the last line of a paragraph's text starts, as laid out now. A long paragraph goes on
// in a new block from there (child_groups.js): a line breaks the same wherever it starts on a
// fresh line, so every line stays as it was.

/** @type {Range | null} */
let shared = null;

/**
 * The boxes of `node` (of its characters `from` to `to` when it is text).
 * @param {ChildNode} node
 * @param {number} [from]
 * @param {number} [to]
 * @returns {DOMRect[]}
 */
function boxes(node, from, to) {
  const range = shared || (shared = document.createRange());
  if (from === undefined) range.selectNode(node);
  else {
    range.setStart(node, from);
    range.setEnd(node, /** @type {number} */ (to));
  }
  if (typeof range.getClientRects !== "function") return []; // a page without layout
  return [...range.getClientRects()].filter((box) => box.width > 0 || box.height > 0);
}

/**
 * The first character of `text` on the last line (whose top is `top`): its characters are on
 * lines in order, so a binary search; characters without a box (collapsed spaces) count as
 * on the line before.
 * @param {Text} text
 * @param {number} top
 */
function firstOnLastLine(text, top) {
  let low = 0;
  let high = text.length; // the answer is in [low, high]
  while (low < high) {
    const mid = (low + high) >> 1;
    const code = text.data.charCodeAt(mid + 1);
    const end = code >= 0xdc00 && code <= 0xdfff ? mid + 2 : mid + 1; // a surrogate pair whole
    const box = boxes(text, mid, Math.min(end, text.length)).pop();
    if (box && box.bottom > top + 1) high = mid;
    else low = end;
  }
  return Math.min(low, text.length);
}

/**
 * Where the last line of `nodes` (inline content, in order, of one block) starts: a text node
 * and the offset of its first character there. Null when nothing is laid out, when `nodes` are
 * all on one line, or when the line starts inside an element (it cannot be split there).
 * @param {ChildNode[]} nodes
 * @returns {{node: ChildNode, offset: number} | null}
 */
export function lastLineStart(nodes) {
  const last = [...nodes].reverse().map((node) => boxes(node).pop()).find(Boolean);
  if (!last) return null;
  const top = last.top; // a box entirely above it is on an earlier line
  /** @type {ChildNode | null} */
  let after = null; // the first node known to be on the last line
  for (let i = nodes.length - 1; i >= 0; i -= 1) {
    const node = nodes[i];
    const own = boxes(node);
    if (own.length === 0 || own[0].bottom > top + 1) {
      after = own.length ? node : after;
      continue; // starts on the last line
    }
    if (node.nodeType === 3) {
      const offset = firstOnLastLine(/** @type {Text} */ (node), top);
      if (offset < /** @type {Text} */ (node).length) return { node, offset };
    } else if (own[own.length - 1].bottom > top + 1) {
      return null; // an element across the line's start
    }
    return after ? { node: after, offset: 0 } : null;
  }
  return null; // all on one line
}
