// Bundles the front-end for the package (create-anywidget's way): src/widget.js and the modules
// it imports into one ES module, nbstream/static/widget.js (no import left for the page to
// resolve), and copies src/widget.css beside it. `npm run build`; `pip install` runs it through
// hatch-jupyter-builder (pyproject.toml). Minified: anywidget sends the module with every
// widget's state (100 answers from one cell: 100 copies); `NBSTREAM_DEV=1 npm run build` for a
// readable one.
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (/** @type {string} */ path) => fileURLToPath(new URL(path, import.meta.url));
const out = here("../nbstream/static/");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [here("src/widget.js")],
  outfile: `${out}widget.js`,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  legalComments: "none",
  minify: !process.env.NBSTREAM_DEV,
  logLevel: "warning",
});
copyFileSync(here("src/widget.css"), `${out}widget.css`);
