// Shared by the vitest files: a fake anywidget model, a rendered view, deflated buffers.
import { vi } from "vitest";
import widget, { adler32Utf16 } from "../src/widget.js";

/** An op that splices into `held`, with the check the kernel sends along. */
export const on = (held, op) => ({ ...op, check: [held.length, adler32Utf16(held)] });

export const textOp = (extra) => ({ id: 0, kind: "text", choice: 0, info: {}, done: false, ...extra });

/** A minimal anywidget model: local attributes, event listeners, and sent messages. */
export function fakeModel(state = {}) {
  const attrs = { status: "pending", ...state };
  const listeners = new Map();
  return {
    sent: [],
    get: (key) => attrs[key],
    set: (key, value) => {
      attrs[key] = value;
      for (const cb of listeners.get(`change:${key}`) || []) cb();
    },
    on: (event, cb) => listeners.set(event, [...(listeners.get(event) || []), cb]),
    off: (event, cb) =>
      listeners.set(event, cb ? (listeners.get(event) || []).filter((x) => x !== cb) : []),
    send(msg) {
      this.sent.push(msg);
    },
    emit(event, ...args) {
      for (const cb of listeners.get(event) || []) cb(...args);
    },
  };
}

/** Frames on timers (jsdom has no requestAnimationFrame). */
export function stubFrames() {
  vi.stubGlobal("requestAnimationFrame", (cb) => setTimeout(cb, 0));
  vi.stubGlobal("cancelAnimationFrame", (id) => clearTimeout(id));
}

/** Render a view of a fake model with `state`. @param {Record<string, any>} state */
export function rendered(state) {
  stubFrames();
  const model = fakeModel(state);
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  return { model, el, cleanup };
}

/** zlib-deflated JSON, as the kernel sends it. @param {any} value */
export async function deflated(value) {
  const { deflateSync } = await import("node:zlib");
  const packed = deflateSync(Buffer.from(JSON.stringify(value)));
  return new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
}

/** Let queued frames and inflations run. */
export const settle = () => new Promise((r) => setTimeout(r, 10));
