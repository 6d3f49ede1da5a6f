// Small SVG charts: a sparkline for resource history and a histogram of the
// top measurement outcomes. Labels are SVG <text> nodes filled by textContent.

import { clear, s } from "./dom.js";
import { formatCount } from "./format.js";

/** Points for a polyline of `values` in a width x height box (max at least `floor`). */
export function sparklinePoints(values, width, height, floor = 0) {
  const nums = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (nums.length === 0) return "";
  const max = Math.max(floor, ...nums) || 1;
  const step = nums.length > 1 ? width / (nums.length - 1) : 0;
  return nums
    .map((v, i) => {
      const x = nums.length > 1 ? i * step : width;
      const y = height - 1 - (Math.max(0, v) / max) * (height - 2);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

/** Create a sparkline; returns {el, update(values, floor)}. */
export function createSparkline(label, width = 120, height = 26) {
  const line = s("polyline", { class: "qmon-spark", points: "" });
  const title = s("title", {}, label);
  const el = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label }, title, line);
  return {
    el,
    update(values, floor = 0) {
      line.setAttribute("points", sparklinePoints(values, width, height, floor));
    },
  };
}

/**
 * A count key split by classical register, as Qiskit prints it: `registers`
 * ([[name, size], ...] in declaration order) fill the key from the right.
 */
export function registerLabel(key, registers) {
  const text = String(key);
  const sizes = Array.isArray(registers) ? registers.map((r) => Number(r?.[1]) || 0) : [];
  if (sizes.length < 2 || sizes.reduce((a, b) => a + b, 0) !== text.length) return text;
  const parts = [];
  let end = text.length;
  for (const size of sizes) {
    parts.unshift(text.slice(end - size, end));
    end -= size;
  }
  return parts.join(" ");
}

/** A count's share of the shots: "50.0%", "0.10%", "0.0050%" (never a "0.0%" that is not zero). */
export function formatShare(count, shots) {
  const p = (100 * count) / shots;
  if (p === 0 || p >= 1) return `${p.toFixed(1)}%`;
  return `${p.toPrecision(2)}%`;
}

/**
 * Draw a horizontal-bar histogram of `top` ([[bitstring, count], ...]) into `container`.
 * A wide register scales the chart down to its container, never past it.
 * Returns the <svg>.
 */
export function renderHistogram(container, top, { shots = null, registers = null, maxBars = 16 } = {}) {
  clear(container);
  const rows = (Array.isArray(top) ? top : [])
    .filter((r) => Array.isArray(r) && r.length >= 2)
    .slice(0, maxBars)
    .map(([key, count]) => [registerLabel(key, registers), count]);
  if (rows.length === 0) return null;
  const maxCount = Math.max(...rows.map((r) => Number(r[1]) || 0)) || 1;
  const labelChars = Math.max(...rows.map((r) => String(r[0]).length));
  const labelWidth = 12 + labelChars * 7;
  const barArea = 260;
  const rowHeight = 18;
  const width = labelWidth + barArea + 120; // room for "123.4k (50.0%)"
  const height = rows.length * rowHeight + 4;
  const svg = s("svg", {
    class: "qmon-histogram",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": "Top measurement outcomes",
  });
  rows.forEach(([key, count], i) => {
    const y = i * rowHeight + 2;
    const w = Math.max(1, (Number(count) / maxCount) * barArea);
    const share = shots ? ` (${formatShare(Number(count), shots)})` : "";
    svg.appendChild(s("text", { x: 0, y: y + 12 }, String(key)));
    svg.appendChild(s("rect", { x: labelWidth, y: y + 2, width: w.toFixed(1), height: rowHeight - 5, rx: 2 }, s("title", {}, `${key}: ${count}${share}`)));
    svg.appendChild(s("text", { x: labelWidth + w + 4, y: y + 12 }, `${formatCount(Number(count))}${share}`));
  });
  container.appendChild(svg);
  return svg;
}
