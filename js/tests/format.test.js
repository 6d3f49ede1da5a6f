import assert from "node:assert/strict";
import { test } from "node:test";
import { formatBytes, formatDoneTotal, formatDuration, formatPercent, formatRate, formatStat, shortName } from "../src/render/format.js";
import { NAME_MAX } from "../src/render/vocabulary.js";
import { statRows } from "../src/render/stats.js";
import { formatShare, registerLabel } from "../src/render/charts.js";

test("durations read naturally", () => {
  assert.equal(formatDuration(0.25), "250 ms");
  assert.equal(formatDuration(4.26), "4.3 s");
  assert.equal(formatDuration(42), "42 s");
  assert.equal(formatDuration(125), "2m 05s");
  assert.equal(formatDuration(3 * 3600 + 120), "3h 02m");
  assert.equal(formatDuration(null), "n/a");
});

test("percent, bytes, rates and counts", () => {
  assert.equal(formatPercent(0.421), "42%");
  assert.equal(formatPercent(1.5), "100%");
  assert.equal(formatPercent(0.015), "1.5%");
  assert.equal(formatBytes(1536), "1.50 KiB");
  assert.equal(formatRate(12345, "shots"), "12.3k shots/s");
  assert.equal(formatDoneTotal(3, null, "steps"), "3 steps");
  assert.equal(formatDoneTotal(3, 10, "steps"), "3 / 10 steps");
  assert.equal(formatStat("success_rate", 0.5), "50%");
});

test("names are capped at the vocabulary's NAME_MAX with an ellipsis", () => {
  assert.equal(shortName("bell pair"), "bell pair");
  assert.equal(shortName("a".repeat(NAME_MAX)), "a".repeat(NAME_MAX));
  const cut = shortName("a".repeat(NAME_MAX + 5));
  assert.equal(cut.length, NAME_MAX);
  assert.ok(cut.endsWith("…"));
});

test("statistics: rates read as rates, with their unit, never as durations", () => {
  assert.equal(formatStat("shots_per_s", 172800), "172.8k shots/s");
  assert.equal(formatStat("jobs_per_hour", 3), "3 jobs/h");
  assert.equal(formatStat("mean_duration_s", 4.2), "4.2 s");
  const rows = Object.fromEntries(statRows({ throughput: { shots: 20000, shots_per_s: 172800, running_shots_per_s: 12.5 } }));
  assert.equal(rows.Throughput, "shots 20.0k · 172.8k shots/s · running 12.5 shots/s");
});

test("histogram labels split registers as Qiskit does, and small shares keep their digits", () => {
  assert.equal(registerLabel("011010", [["c", 2], ["d", 4]]), "0110 10");
  assert.equal(registerLabel("0110", [["c", 4]]), "0110");
  assert.equal(registerLabel("0110", [["c", 2], ["d", 3]]), "0110"); // sizes that do not fit: as is
  assert.equal(formatShare(1, 20000), "0.0050%");
  assert.equal(formatShare(10000, 20000), "50.0%");
  assert.equal(formatShare(0, 20000), "0.0%");
});
