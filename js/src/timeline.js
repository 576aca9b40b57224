// The token-rate chart of the details panel.

/**
 * A small SVG bar chart of token arrivals over time.
 * @param {{bucket_s: number, counts: number[]} | undefined} timeline
 */
export function timelineSvg(timeline) {
  const svgNs = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNs, "svg");
  svg.setAttribute("class", "nbs-timeline");
  svg.setAttribute("viewBox", "0 0 240 40");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  const counts = timeline?.counts || [];
  const peak = Math.max(1, ...counts);
  const width = 240 / Math.max(1, counts.length);
  counts.forEach((count, i) => {
    const bar = document.createElementNS(svgNs, "rect");
    const height = (count / peak) * 38;
    bar.setAttribute("x", String(i * width));
    bar.setAttribute("y", String(40 - height));
    bar.setAttribute("width", String(Math.max(width - 0.5, 0.5)));
    bar.setAttribute("height", String(height));
    svg.append(bar);
  });
  const rate = timeline ? (peak / timeline.bucket_s).toFixed(0) : "0";
  svg.setAttribute("aria-label", `Token arrivals over time; peak ${rate} tokens/s`);
  return svg;
}
