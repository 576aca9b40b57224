// One animation frame for every view in the page (every widget, every grid pane): first all the
// DOM writes (`write`: patches applied), then all the reads and scroll writes (`afterWrites`:
// following the end). N views streaming then cost one layout per frame, not N (a view that
// writes its DOM and reads `scrollHeight` in a frame of its own forces a layout each).
// The writes of a frame stop after WRITE_BUDGET_MS (at least one runs): the rest run first in
// the next frame, so a hundred panes' patches arriving together spread over a few frames
// instead of making one long one. A view's messages stay in order (its inbox holds them).
// And one clock (`everyTick`) for every running view's elapsed time, not a timer each.

/** @typedef {() => void} Job */

/** @type {Set<Job>} */
let writes = new Set();
/** @type {Set<Job>} */
let reads = new Set();
let requested = false;
/** @type {"idle" | "write" | "read"} */
let phase = "idle";

/** How long a frame's writes may run before the rest wait for the next frame (ms). */
export const WRITE_BUDGET_MS = 4;
const now = () => (typeof performance === "undefined" ? Date.now() : performance.now());

/** A job's error, reported without stopping the other views' jobs. @param {unknown} error */
function report(error) {
  setTimeout(() => {
    throw error;
  });
}

/** @param {Job[]} jobs */
function runAll(jobs) {
  for (const job of jobs) {
    try {
      job();
    } catch (error) {
      report(error);
    }
  }
}

function flush() {
  requested = false;
  phase = "write";
  const start = now();
  // (A write first asked for from here on, by these ones too, waits for the next frame.)
  for (const job of [...writes]) {
    if (!writes.has(job)) continue; // cancelled meanwhile
    writes.delete(job);
    runAll([job]);
    if (now() - start >= WRITE_BUDGET_MS) break;
  }
  // Reads asked for until now (by the writes above too) run in this frame, after every write.
  phase = "read";
  const reading = [...reads];
  reads = new Set();
  runAll(reading);
  phase = "idle";
  if (writes.size || reads.size) request();
}

// The page's one animation-frame callback keeps its name in the minified bundle: it is what
// benchmarks/bench_browser.py times (every view's work of a frame happens in it).
Object.defineProperty(flush, "name", { value: "flush" });

function request() {
  if (requested) return;
  requested = true;
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(flush);
  else setTimeout(flush, 16);
}

/**
 * Run `job` in the next shared frame's write phase (once, however often it is asked for before
 * then). A job asked for while the writes run waits for the next frame.
 * @param {Job} job
 */
export function write(job) {
  writes.add(job);
  if (phase === "idle") request();
}

/**
 * Run `job` after every write of a shared frame: in this frame's read phase when asked for by
 * a write (or before the frame), else in the next frame's. Once however often it is asked for.
 * @param {Job} job
 */
export function afterWrites(job) {
  reads.add(job);
  if (phase === "idle") request();
}

/** Forget a job not run yet (a view torn down). @param {Job} job */
export function cancel(job) {
  writes.delete(job);
  reads.delete(job);
}

/** The shared clock's period (ms). */
export const TICK_MS = 100;
/** @type {Set<Job>} */
const ticking = new Set();
let timer = 0;

/** Every tick's job, then the timer stops when none is left. */
function tick() {
  runAll([...ticking]);
  if (!ticking.size && timer) {
    clearInterval(timer);
    timer = 0;
  }
}

/**
 * Run `job` every TICK_MS on the one timer every view shares, until `stopTicking(job)`.
 * @param {Job} job
 */
export function everyTick(job) {
  ticking.add(job);
  if (!timer) timer = /** @type {any} */ (setInterval(tick, TICK_MS));
}

/** @param {Job} job */
export function stopTicking(job) {
  ticking.delete(job);
  if (!ticking.size && timer) {
    clearInterval(timer);
    timer = 0;
  }
}
