// The statistics panel: whatever numbers DashboardAPI.get_statistics() gives,
// one row each; nested {name: number} maps become one "a 3 · b 1" row.

import { clear, h } from "./dom.js";
import { RATE_KEY, formatStat, humanize } from "./format.js";

/** One entry of a nested map: "running 3", "42 shots/s" (a rate names its own unit). */
function statPart(key, value) {
  if (typeof value !== "number") return `${humanize(key).toLowerCase()} ${value}`;
  const rate = RATE_KEY.exec(key);
  if (rate) return [rate[1]?.replace(/_/g, " "), formatStat(key, value)].filter(Boolean).join(" ");
  return `${humanize(key).toLowerCase()} ${formatStat(key, value)}`;
}

export function statRows(stats) {
  const rows = [];
  if (!stats || typeof stats !== "object") return rows;
  for (const [key, value] of Object.entries(stats)) {
    if (value === null || value === undefined) continue;
    if (typeof value === "number") rows.push([humanize(key), formatStat(key, value)]);
    else if (typeof value === "string") rows.push([humanize(key), value]);
    else if (typeof value === "object" && !Array.isArray(value)) {
      const parts = Object.entries(value)
        .filter(([, v]) => (typeof v === "number" && v !== 0) || typeof v === "string")
        .map(([k, v]) => statPart(k, v));
      if (parts.length) rows.push([humanize(key), parts.join(" · ")]);
    }
  }
  return rows;
}

export function createStatsPanel() {
  const dl = h("dl");
  const el = h("details", { class: "qmon-stats" }, h("summary", {}, "Statistics"), dl);
  return {
    el,
    update(stats) {
      clear(dl);
      const rows = statRows(stats);
      if (rows.length === 0) {
        dl.appendChild(h("dt", {}, "No statistics yet"));
        dl.appendChild(h("dd", {}, ""));
      }
      for (const [k, v] of rows) {
        dl.appendChild(h("dt", {}, k));
        dl.appendChild(h("dd", {}, v));
      }
    },
  };
}
