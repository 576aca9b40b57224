// Bundles the front-end for the package (create-anywidget's way): src/widget.js and the modules
// it imports into one ES module, nbstream/static/widget.js (no import left for the page to
// resolve), and minifies src/widget.css beside it. `npm run build`; `pip install` runs it through
// hatch-jupyter-builder (pyproject.toml). Minified: anywidget sends the module with every
// widget's state (100 answers from one cell: 100 copies); `NBSTREAM_DEV=1 npm run build` for a
// readable one.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (/** @type {string} */ path) => fileURLToPath(new URL(path, import.meta.url));
const out = here("../nbstream/static/");
mkdirSync(out, { recursive: true });
// widget.js: streams and grids (a Grid's module); stream.js: streams alone (a StreamWidget's).
for (const [entry, name] of [["src/widget.js", "widget.js"], ["src/stream_entry.js", "stream.js"]]) {
  await build({
    entryPoints: [here(entry)],
    outfile: `${out}${name}`,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2020",
    legalComments: "none",
    minify: !process.env.NBSTREAM_DEV,
    logLevel: "warning",
  });
}
// The stylesheet minified too: a widget's comm_open carries module and stylesheet, and over
// 64 KB pyzmq sends it zero-copy, which starts a garbage-collector thread holding 7 fds.
await build({
  entryPoints: [here("src/widget.css")],
  outfile: `${out}widget.css`,
  bundle: false,
  minify: !process.env.NBSTREAM_DEV,
  logLevel: "warning",
});
