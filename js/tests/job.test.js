import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeModel, FakeTimers, fakeFetch, installDom, snapshot } from "./helpers.js";

installDom();
const { renderJob } = await import("../src/render/jobview.js");

function setup(job) {
  installDom();
  const model = new FakeModel({ job, heartbeat: 0 });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const timers = new FakeTimers();
  const fetchImpl = fakeFetch(() => ({ status: 404 }));
  const cleanup = renderJob({ model, el, options: { timers, fetchImpl, doc: document } });
  return { model, el, cleanup, timers, fetchImpl };
}

test("shows status, progress and ETA while running, with a cancel button", () => {
  const { el } = setup(snapshot());
  assert.equal(el.querySelector(".qmon-badge").textContent, "running");
  assert.equal(el.querySelector(".qmon-pct").textContent, "42%");
  assert.match(el.textContent, /ETA300 ms/);
  assert.ok(el.querySelector("button.qmon-cancel"));
  assert.equal(el.querySelector(".qmon-histogram"), null);
});

test("on completion draws a histogram of the top outcomes", () => {
  const { el, model } = setup(snapshot());
  model.set("job", snapshot({ status: "completed", progress: 1, done: 1024, result_summary: { top: [["11", 520], ["00", 504]], shots: 1024 } }));
  const svg = el.querySelector("svg.qmon-histogram");
  assert.ok(svg);
  assert.equal(svg.querySelectorAll("rect").length, 2);
  const labels = [...svg.querySelectorAll("text")].map((t) => t.textContent);
  assert.ok(labels.includes("11") && labels.includes("00"));
  assert.ok(labels.some((l) => /520 \(50\.8%\)/.test(l)));
  assert.equal(el.querySelector(".qmon-pct").textContent, "100%");
  assert.equal(el.querySelector(".qmon-actions").hasAttribute("hidden"), true);
});

test("on failure shows the error text, as text", () => {
  const { el, model } = setup(snapshot());
  model.set("job", snapshot({ status: "failed", error: { type: "QmonError", message: "<img src=x onerror=alert(1)>" } }));
  assert.equal(el.querySelector(".qmon-error").textContent, "QmonError: <img src=x onerror=alert(1)>");
  assert.equal(el.querySelectorAll("img").length, 0);
});

test("cancelled shows as cancelled", () => {
  const { el, model } = setup(snapshot());
  model.set("job", snapshot({ status: "cancelled" }));
  assert.equal(el.querySelector(".qmon-badge").textContent, "cancelled");
});

test("cancel click without the server extension uses the comm", async () => {
  const { el, model } = setup(snapshot());
  el.querySelector("button.qmon-cancel").click();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(model.sent, [{ action: "cancel", job_id: "a1b2c3d4e5f6" }]);
});

test("cleanup leaves no listeners or timers", () => {
  const { model, cleanup, timers } = setup(snapshot());
  cleanup();
  assert.equal(model.listenerCount(), 0);
  assert.equal(timers.pending, 0);
});

test("the anywidget modules export initialize and render returning cleanups", async () => {
  installDom();
  for (const path of ["../src/dashboard.js", "../src/job.js"]) {
    const mod = (await import(path)).default;
    const model = new FakeModel({ job: snapshot(), jobs: [] });
    const el = document.createElement("div");
    const init = mod.initialize({ model });
    assert.equal(typeof init, "function");
    const cleanup = mod.render({ model, el });
    assert.equal(typeof cleanup, "function");
    cleanup();
    assert.equal(model.listenerCount(), 0);
  }
});

test("compact (qmon.progress) draws one line and follows the trait", () => {
  const { el, model } = setup(snapshot());
  const root = el.querySelector(".qmon-jobview");
  assert.equal(root.classList.contains("qmon-compact"), false);
  model.set("compact", true);
  assert.equal(root.classList.contains("qmon-compact"), true);
  assert.ok(el.querySelector('.qmon-field[data-field="eta"]'));
});
