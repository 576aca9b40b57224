// A stream's buttons: Copy and Raw (the markdown source, fetched from the kernel on demand),
// a code block's Copy, and Stop (sent again until the kernel says it stopped; Esc too).
import { FINAL } from "./format.js";

/**
 * @typedef {{send: (msg: any) => void}} Sender
 * @typedef {{receiveSource: (parts: Record<string, string>) => void, stop: () => void,
 *   leaveRaw: () => void, teardown: () => void}} Actions
 */

/** @param {HTMLElement} button @param {string} text */
function flash(button, text) {
  const before = button.dataset.label || button.textContent || "";
  button.dataset.label = before;
  button.textContent = text;
  setTimeout(() => (button.textContent = before), 1200);
}

/**
 * The answer's markdown (choice shown), fetched from the kernel on demand: `source()` asks,
 * `receiveSource` takes the kernel's answer ({id: text} per part); null after 3 s without one.
 * @param {Sender} model
 * @param {import("./stream_view.js").StreamView} view
 */
function sourceFetcher(model, view) {
  /** @type {((parts: Record<string, string>) => void)[]} */
  let waiters = [];
  /** @returns {Promise<string | null>} */
  const source = () =>
    new Promise((resolve) => {
      const timeout = setTimeout(() => resolve(null), 3000);
      waiters.push((parts) => {
        clearTimeout(timeout);
        const texts = [...view.parts.values()]
          .filter((p) => p.kind === "text" && p.choice === view.shownChoice)
          .map((p) => parts[String(p.id)] || "");
        resolve(texts.join(""));
      });
      model.send({ type: "source" });
    });
  /** @param {Record<string, string>} parts */
  const receiveSource = (parts) => {
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve(parts);
  };
  return { source, receiveSource };
}

/**
 * @param {{model: Sender, view: import("./stream_view.js").StreamView,
 *   header: import("./header.js").Header, frame: import("./frame.js").Frame,
 *   root: HTMLElement, status: () => string, pastText: () => string | null}} parts
 *   `pastText`: the text of the earlier attempt shown, if one is
 * @returns {Actions}
 */
export function wireActions({ model, view, header, frame, root, status, pastText }) {
  const { source, receiveSource } = sourceFetcher(model, view);

  const onCopy = async () => {
    const text = pastText() ?? (await source()) ?? view.body.innerText;
    try {
      await navigator.clipboard.writeText(String(text));
      flash(header.copy, "Copied");
    } catch {
      flash(header.copy, "Copy failed");
    }
  };

  /** @param {boolean} showRaw */
  const setRaw = (showRaw) => {
    frame.rawBox.hidden = !showRaw;
    view.body.hidden = showRaw;
    header.raw.setAttribute("aria-pressed", String(showRaw));
    header.raw.textContent = showRaw ? "Rendered" : "Raw";
  };
  const onRaw = async () => {
    const { rawBox } = frame;
    const showRaw = rawBox.hidden;
    if (showRaw) rawBox.textContent = (await source()) ?? view.body.innerText;
    setRaw(showRaw);
  };

  /** A code block's Copy button. @param {Event} event */
  const onClick = (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    const copy = target.closest ? target.closest(".nbs-copy") : null;
    if (!copy) return;
    const code = copy.closest(".nbs-code")?.querySelector("pre");
    if (code && navigator.clipboard) {
      navigator.clipboard.writeText(code.textContent || "").then(
        () => flash(/** @type {HTMLElement} */ (copy), "Copied"),
        () => flash(/** @type {HTMLElement} */ (copy), "Copy failed"),
      );
    }
  };

  let stopTimer = 0;
  const onStop = () => {
    header.stop.disabled = true;
    let tries = 0;
    const send = () => {
      stopTimer = 0;
      if (FINAL.has(status()) || tries++ >= 4) return;
      model.send({ type: "stop" });
      stopTimer = window.setTimeout(send, 1000); // until the kernel says it stopped
    };
    send();
  };
  /** @param {KeyboardEvent} event */
  const onKey = (event) => {
    if (event.key === "Escape" && !header.stop.disabled) onStop();
  };

  header.stop.addEventListener("click", onStop);
  header.copy.addEventListener("click", onCopy);
  header.raw.addEventListener("click", onRaw);
  root.addEventListener("keydown", onKey);
  view.body.addEventListener("click", onClick);
  return {
    receiveSource,
    stop: onStop,
    leaveRaw: () => {
      if (!frame.rawBox.hidden) setRaw(false);
    },
    teardown: () => {
      if (stopTimer) clearTimeout(stopTimer);
    },
  };
}
