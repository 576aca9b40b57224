// The entry point of a stream widget's bundle (nbstream/static/stream.js): anywidget's `render`
// for a stream alone, without the grid's modules. Every widget's comm_open carries its module,
// so a hundred answers carry it a hundred times (and a message over 64 KB makes pyzmq start a
// thread of its own): the grid's bundle is widget.js.
import { render as place } from "./placement.js";
import { build } from "./stream_widget.js";

/**
 * Render a view of a stream widget (anywidget calls this; returns the view's cleanup).
 * @param {{model: any, el: HTMLElement}} context
 */
function render(context) {
  return place(context, build);
}

export default { render };
