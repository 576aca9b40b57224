// The check the kernel sends with each splice (nbstream/_patches.py, `integrity`).

/** @typedef {{id: number, kind?: string, choice?: number, info?: Record<string, any>, done?: boolean,
 *   append?: string[], from_tail?: number, keep?: number, tail?: string, text?: string,
 *   reset?: boolean, check?: [number, number], settle?: [number, string][]}} PartOp */

/**
 * Adler-32 of a string's UTF-16LE bytes: the kernel sends it (with the length in UTF-16 code
 * units, the unit of every offset) for the string an op splices into, so the page splices
 * only into the very string the kernel means.
 * @param {string} text
 * @returns {number}
 */
export function adler32Utf16(text) {
  let a = 1;
  let b = 0;
  for (let i = 0; i < text.length;) {
    const end = Math.min(text.length, i + 2048); // sums stay exact in doubles
    for (; i < end; i++) {
      const unit = text.charCodeAt(i);
      a += unit & 255;
      b += a;
      a += unit >>> 8;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return b * 65536 + a;
}

/**
 * Whether `text` is the string the kernel's op expects to splice into.
 * @param {string} text
 * @param {PartOp} op
 */
export function holds(text, op) {
  const kept = Math.max(op.keep || 0, op.from_tail || 0);
  if (op.reset || kept === 0) return true;
  const check = op.check;
  return Array.isArray(check) && check[0] === text.length && kept <= text.length
    && check[1] === adler32Utf16(text);
}
