import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeTimers, fakeFetch, installDom, snapshot } from "./helpers.js";

installDom('<!doctype html><html data-qmon-no-automount><head></head><body data-base-url="/jupyter/"></body></html>');
const { RestModel, mount } = await import("../src/page.js");

class FakeEventSource {
  static last = null;
  constructor(url) {
    this.url = url;
    this.handlers = {};
    this.closed = false;
    FakeEventSource.last = this;
  }
  addEventListener(kind, cb) {
    this.handlers[kind] = cb;
  }
  emit(kind, data) {
    const cb = kind === "message" ? this.onmessage : this.handlers[kind];
    cb({ data: JSON.stringify(data) });
  }
  close() {
    this.closed = true;
  }
}

const dashboardState = {
  jobs: { active: [snapshot({ id: "r1" }), snapshot({ id: "q1", status: "queued", queue_position: 1 })], recent: [snapshot({ id: "c1", status: "completed", finished_at: "2026-11-29T08:00:03Z" })] },
  stats: { total: 3, by_status: { running: 1, queued: 1, completed: 1 } },
  resources: { latest: { cpu_percent: 12, rss_bytes: 1024 }, history: [] },
  notifications: [],
};

test("the page mounts the dashboard from GET dashboard and follows SSE events", async () => {
  const fetchImpl = fakeFetch((url) => (url.endsWith("api/qmon/dashboard") ? { status: 200, body: dashboardState } : { status: 202, body: snapshot({ id: "r1", status: "cancelled", updated_at: "2026-11-29T09:00:00Z" }) }));
  const el = document.createElement("div");
  document.body.appendChild(el);
  const timers = new FakeTimers();
  const cleanup = mount(el, { fetchImpl, EventSourceImpl: FakeEventSource, timers, doc: document });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(fetchImpl.calls[0].url, "/jupyter/api/qmon/dashboard");
  assert.equal(FakeEventSource.last.url, "/jupyter/api/qmon/events");
  assert.deepEqual([...el.querySelectorAll(".qmon-job")].map((r) => r.dataset.jobId), ["r1", "q1", "c1"]);
  FakeEventSource.last.emit("job.progress", { seq: 5, kind: "job.progress", job_id: "q1", snapshot: snapshot({ id: "q1", status: "running", progress: 0.5 }) });
  assert.equal(el.querySelector('[data-job-id="q1"] .qmon-pct').textContent, "50%");
  FakeEventSource.last.emit("message", { seq: 6, kind: "notification.created", notification: { id: "n1", level: "info", title: "hello", message: "" } });
  assert.equal(el.querySelectorAll(".qmon-toast").length, 1);
  el.querySelector('[data-job-id="r1"] button.qmon-cancel').click();
  await new Promise((r) => setTimeout(r, 10));
  const post = fetchImpl.calls.find((c) => c.init.method === "POST");
  assert.equal(post.url, "/jupyter/api/qmon/jobs/r1/cancel");
  assert.equal(el.querySelector('[data-job-id="r1"] .qmon-badge').textContent, "cancelled");
  cleanup();
  assert.equal(FakeEventSource.last.closed, true);
  assert.equal(timers.pending, 0);
});

test("the REST model keeps active jobs and a bounded number of recent ones", () => {
  const model = new RestModel({ base: "/", fetchImpl: fakeFetch(() => ({})), EventSourceImpl: null, recentLimit: 2 });
  const jobs = [snapshot({ id: "a" }), ...[1, 2, 3, 4].map((i) => snapshot({ id: `d${i}`, status: "completed", finished_at: `2026-11-29T08:00:0${i}Z` }))];
  model.applyState({ jobs });
  assert.deepEqual(model.get("jobs").map((j) => j.id), ["a", "d4", "d3"]);
  assert.equal(model.exportUrl, "/api/qmon/export?format=json");
});
