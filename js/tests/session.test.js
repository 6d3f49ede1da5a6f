import assert from "node:assert/strict";
import { test } from "node:test";
import { fakeFetch, installDom, snapshot } from "./helpers.js";

installDom();
const { createJobRow } = await import("../src/render/jobrow.js");
const { RestModel } = await import("../src/render/rest_model.js");

function session(fields = {}) {
  return snapshot({ id: "5e55101d0000", name: "VQE H2", type: "session", unit: "jobs", done: 3, total: 5, ...fields });
}

test("a session's row says n / N done and expands to its jobs on a click", () => {
  installDom();
  const row = createJobRow(() => {});
  const children = [snapshot({ id: "c1", name: "step <b>1</b>", status: "running", progress: 0.5 })];
  row.update(session({ children }));
  const toggle = row.el.querySelector(".qmon-expand");
  assert.equal(toggle.hidden, false);
  assert.equal(toggle.textContent, "▸ 3 / 5 done");
  assert.match(row.el.querySelector(".qmon-fields").textContent, /3 \/ 5 done/);
  const list = row.el.querySelector(".qmon-children");
  assert.equal(list.hidden, true);
  toggle.click();
  assert.equal(list.hidden, false);
  assert.equal(toggle.getAttribute("aria-expanded"), "true");
  const line = list.querySelector(".qmon-child");
  assert.equal(line.dataset.jobId, "c1");
  assert.equal(line.querySelector(".qmon-job-name").textContent, "step <b>1</b>"); // text, not HTML
  assert.equal(list.querySelector("b"), null);
  assert.match(list.textContent, /and 4 more/);
  row.update(session({ children, done: 5 })); // stays open across updates
  assert.equal(toggle.textContent, "▾ 5 / 5 done");
  toggle.click();
  assert.equal(list.hidden, true);
});

test("an ordinary job has no session toggle", () => {
  installDom();
  const row = createJobRow(() => {});
  row.update(snapshot());
  assert.equal(row.el.querySelector(".qmon-expand").hidden, true);
});

test("the page's model lists a session once, carrying the jobs it has seen under it", () => {
  const model = new RestModel({ base: "/", fetchImpl: fakeFetch(() => ({})), EventSourceImpl: null });
  const parent = session({ status: "running" });
  model.applyState({ jobs: [parent], total_jobs: 1 });
  for (let i = 0; i < 9; i += 1) {
    model.upsert(snapshot({ id: `child${i}`, parent_id: parent.id, status: "completed", finished_at: `2026-01-01T00:00:0${i}.000Z` }));
  }
  model.upsert(snapshot({ id: "orphan", parent_id: "gone0000000" }));
  model.publishJobs();
  const jobs = model.get("jobs");
  assert.deepEqual(jobs.map((j) => j.id), [parent.id]);
  assert.equal(jobs[0].children.length, 6);
  assert.equal(jobs[0].children[0].id, "child8"); // the latest finished first
  assert.equal(model.byId.has("orphan"), false);
});
