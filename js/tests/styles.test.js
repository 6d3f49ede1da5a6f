import assert from "node:assert/strict";
import { test } from "node:test";
import { STATUSES } from "../src/render/vocabulary.js";
import { BADGE_BACKGROUNDS } from "../src/render/styles.js";

/** WCAG 2 relative luminance of "#rrggbb". */
function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

test("every badge's white text has at least 4.5:1 contrast (WCAG AA)", () => {
  for (const [status, color] of Object.entries(BADGE_BACKGROUNDS)) {
    const ratio = 1.05 / (luminance(color) + 0.05);
    assert.ok(ratio >= 4.5, `${status} ${color}: ${ratio.toFixed(2)}:1`);
  }
  for (const status of Object.keys(BADGE_BACKGROUNDS)) {
    assert.ok(status === "default" || STATUSES.includes(status), `${status} is not a status`);
  }
});
