// Number and time formatting shared by the dashboard and the job widget.

import { NAME_MAX } from "./vocabulary.js";

export const NA = "n/a";

function isNum(x) {
  return typeof x === "number" && Number.isFinite(x);
}

/** A job's name as every view shows it: at most NAME_MAX characters, "…" when cut. */
export function shortName(name) {
  const text = String(name);
  return text.length <= NAME_MAX ? text : `${text.slice(0, NAME_MAX - 1)}…`;
}

/** 0..1 -> "42%" (one decimal below 10%). */
export function formatPercent(fraction) {
  if (!isNum(fraction)) return NA;
  const p = Math.max(0, Math.min(1, fraction)) * 100;
  if (p > 0 && p < 10 && !Number.isInteger(p)) return `${p.toFixed(1)}%`;
  return `${Math.floor(p)}%`;
}

/** Seconds -> "850 ms", "12.3 s", "4m 05s", "2h 03m", "3d 04h". */
export function formatDuration(seconds) {
  if (!isNum(seconds) || seconds < 0) return NA;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const total = Math.round(seconds);
  const d = Math.floor(total / 86400);
  const hrs = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${pad(hrs)}h`;
  if (hrs > 0) return `${hrs}h ${pad(m)}m`;
  return `${m}m ${pad(sec)}s`;
}

/** 1234567 -> "1.23M"; small integers unchanged. */
export function formatCount(n) {
  if (!isNum(n)) return NA;
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Bytes -> "512 B", "1.5 KiB", "2.00 GiB". */
export function formatBytes(n) {
  if (!isNum(n) || n < 0) return NA;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  if (i === 0) return `${v} B`;
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** Rate in units per second -> "1.2k shots/s". */
export function formatRate(rate, unit) {
  if (!isNum(rate)) return NA;
  return `${formatCount(rate)} ${unit || "items"}/s`;
}

/** done/total with unit: "512 / 1024 shots"; total unknown -> "512 shots". */
export function formatDoneTotal(done, total, unit) {
  const u = unit || "";
  if (!isNum(done) && !isNum(total)) return NA;
  if (!isNum(total)) return `${formatCount(done)} ${u}`.trim();
  return `${formatCount(isNum(done) ? done : 0)} / ${formatCount(total)} ${u}`.trim();
}

/** Turn "mean_duration_s" into "Mean duration". */
export function humanize(key) {
  const words = String(key)
    .replace(/_per_(s|hour)$/, " rate")
    .replace(/_s$/, "")
    .replace(/[_-]+/g, " ")
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const PER = { s: "/s", hour: "/h" };
/** A rate's key: [_, what it is of ("running"), its unit ("shots"), per "s" | "hour"]. */
export const RATE_KEY = /^(?:(.*)_)?([a-z]+)_per_(s|hour)$/;

/**
 * Format a statistics value by its key's convention: …_per_s and …_per_hour
 * rates ("1.2k shots/s"), other …_s seconds, …rate fractions, …bytes sizes.
 */
export function formatStat(key, value) {
  if (!isNum(value)) return value === null || value === undefined ? NA : String(value);
  const rate = RATE_KEY.exec(key);
  if (rate) return `${formatCount(value)} ${rate[2]}${PER[rate[3]]}`;
  if (/_s$/.test(key)) return formatDuration(value);
  if (/(success|failure|cancel).*rate|_ratio$|_fraction$/.test(key) && value <= 1) {
    return formatPercent(value);
  }
  if (/bytes$/.test(key)) return formatBytes(value);
  return formatCount(value);
}
