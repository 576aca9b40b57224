// nbstream front-end, the entry point: anywidget's `render` for a stream (and, by `_kind`, a
// grid of streams). `npm run build` bundles it with its modules into nbstream/static/widget.js.
import { buildGrid } from "./grid.js";
import { render as place } from "./placement.js";
import { build } from "./stream_widget.js";

export { diffFragment } from "./diff_view.js";
export { formatMetrics, stoppedLabel } from "./format.js";
export { FOLD_ABOVE } from "./grid.js";
export { inflateJson } from "./inflate.js";
export { adler32Utf16 } from "./integrity.js";
export { safeFragment } from "./sanitize.js";
export { StreamView } from "./stream_view.js";
export { timelineSvg } from "./timeline.js";

/**
 * Render a view of a widget (anywidget calls this; returns the view's cleanup).
 * @param {{model: any, el: HTMLElement}} context
 */
function render(context) {
  return place(context, context.model.get("_kind") === "grid" ? buildGrid : build);
}

export default { render };
