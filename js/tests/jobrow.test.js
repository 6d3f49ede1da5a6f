import assert from "node:assert/strict";
import { test } from "node:test";
import { installDom, snapshot } from "./helpers.js";

installDom();
const { createJobRow, executorText } = await import("../src/render/jobrow.js");

test("a job row shows its executor and worker count when the executor describes itself", () => {
  installDom();
  const row = createJobRow(() => {});
  row.update(snapshot({ backend: "dask", executor: "dask", executor_info: { name: "dask", address: "tcp://127.0.0.1:8786", workers: 2 } }));
  const meta = row.el.querySelector(".qmon-job-meta");
  assert.match(meta.textContent, /dask · 2 workers/);
  assert.equal(meta.title, "executor at tcp://127.0.0.1:8786");
  row.update(snapshot({ backend: "dask", executor: "dask", executor_info: { name: "dask", address: "tcp://x:1", workers: 1 } }));
  assert.match(meta.textContent, /dask · 1 worker\b/);
});

test("without executor_info the row shows the backend, as before", () => {
  assert.equal(executorText(snapshot()), "local");
  assert.equal(executorText(snapshot({ executor_info: null, backend: "emulator" })), "emulator");
  assert.equal(executorText(snapshot({ executor_info: { name: "dask" } })), "dask");
  installDom();
  const row = createJobRow(() => {});
  row.update(snapshot());
  assert.equal(row.el.querySelector(".qmon-job-meta").textContent, "simulation · local · a1b2c3d4e5f6");
});

test("a long name is capped in the row and kept whole in its tooltip", () => {
  installDom();
  const row = createJobRow(() => {});
  const long = `<img src=x onerror=alert(1)>${"y".repeat(400)}`;
  row.update(snapshot({ name: long }));
  const name = row.el.querySelector(".qmon-job-name");
  assert.ok(name.textContent.endsWith("…"));
  assert.ok(name.textContent.length < long.length);
  assert.ok(name.title.startsWith(long));
  assert.equal(row.el.querySelector("img"), null);
});

test("a finished job drops its last stage; a paused one says paused for its ETA", () => {
  installDom();
  const row = createJobRow(() => {});
  row.update(snapshot({ status: "running", stage: "optimising" }));
  const stage = () => [...row.el.querySelectorAll(".qmon-field")].find((f) => f.textContent.startsWith("Stage"));
  assert.equal(stage().hidden, false);
  row.update(snapshot({ status: "completed", stage: "optimising" }));
  assert.equal(stage().hidden, true);
  row.update(snapshot({ status: "paused", eta_s: 12 }));
  const eta = [...row.el.querySelectorAll(".qmon-field")].find((f) => f.textContent.startsWith("ETA"));
  assert.match(eta.textContent, /paused/);
});

test("a detached provider job is marked detached, in text, and offers no actions", () => {
  installDom();
  const row = createJobRow(() => {});
  const marker = row.el.querySelector(".qmon-detached");
  row.update(snapshot({ status: "queued", type: "hardware", backend: "emulator:emu-8q" }));
  assert.equal(marker.hidden, true);
  assert.equal(row.el.querySelector(".qmon-actions").hidden, false);
  row.update(snapshot({ status: "queued", type: "hardware", detached: true, message: "<b>x</b>" }));
  assert.equal(marker.hidden, false);
  assert.equal(marker.textContent, "detached");
  assert.equal(row.el.dataset.detached, "true");
  assert.equal(row.el.querySelector(".qmon-actions").hidden, true);
  assert.equal(row.el.querySelector(".qmon-actions").childNodes.length, 0);
  assert.equal(row.el.querySelector("b"), null); // the message stays text
  row.update(snapshot({ status: "completed", detached: true }));
  assert.equal(marker.hidden, true); // once ended, it is simply completed
});
