// zlib-deflated JSON from the kernel (large patches, snapshots, frames travel this way).

/**
 * Inflate a zlib-deflated JSON buffer.
 * @param {DataView | ArrayBuffer | undefined} buffer
 * @returns {Promise<any>}
 */
export async function inflateJson(buffer) {
  const bytes = buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(/** @type {DataView} */ (buffer).buffer, /** @type {DataView} */ (buffer).byteOffset,
      /** @type {DataView} */ (buffer).byteLength);
  const body = /** @type {ReadableStream} */ (new Response(bytes).body);
  return JSON.parse(await new Response(body.pipeThrough(new DecompressionStream("deflate"))).text());
}
