import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { FakeModel, FakeTimers, fakeFetch, installDom, snapshot } from "./helpers.js";

installDom();
const { renderDashboard, sortJobs } = await import("../src/render/dashboard.js");

function setup(state = {}, options = {}) {
  installDom();
  const timers = new FakeTimers();
  const model = new FakeModel({ jobs: [], counts: { total: 0, by_status: {} }, stats: {}, resources: null, notifications: [], heartbeat: 0, filters: { status: "", type: "" }, ...state });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const noServer = fakeFetch(() => ({ status: 404, body: {} }));
  const cleanup = renderDashboard({ model, el, options: { timers, fetchImpl: noServer, doc: document, ...options } });
  return { model, el, timers, cleanup, noServer };
}

const rowsOf = (el) => [...el.querySelectorAll(".qmon-job")];

describe("dashboard", () => {
  beforeEach(() => installDom());

  test("empty state tells a newcomer what to run", () => {
    const { el } = setup();
    const empty = el.querySelector(".qmon-empty");
    assert.equal(empty.hasAttribute("hidden"), false);
    assert.match(empty.textContent, /%%qmon/);
    assert.match(empty.textContent, /qmon\.submit/);
    assert.equal(rowsOf(el).length, 0);
  });

  test("active jobs come first, queued by position, then the most recent finished", () => {
    const jobs = [
      snapshot({ id: "done-old", status: "completed", finished_at: "2026-11-29T08:00:05Z" }),
      snapshot({ id: "q2", status: "queued", queue_position: 2 }),
      snapshot({ id: "run", status: "running" }),
      snapshot({ id: "done-new", status: "failed", finished_at: "2026-11-29T08:00:09Z", error: { type: "ValueError", message: "bad" } }),
      snapshot({ id: "q1", status: "queued", queue_position: 1 }),
    ];
    assert.deepEqual(sortJobs(jobs).map((j) => j.id), ["run", "q1", "q2", "done-new", "done-old"]);
    const { el } = setup({ jobs, counts: { total: 5, by_status: { running: 1, queued: 2, completed: 1, failed: 1 } } });
    assert.deepEqual(rowsOf(el).map((r) => r.dataset.jobId), ["run", "q1", "q2", "done-new", "done-old"]);
    assert.equal(el.querySelector(".qmon-empty").hasAttribute("hidden"), true);
    assert.match(el.querySelector(".qmon-summary").textContent, /1 running · 2 queued · 1 completed · 1 failed/);
  });

  test("a row shows percent, done/total with unit, rate, ETA, elapsed, queue, stage and badge", () => {
    const { el } = setup({ jobs: [snapshot({ queue_position: 3, status: "running" })] });
    const row = rowsOf(el)[0];
    const text = row.textContent;
    assert.equal(row.querySelector(".qmon-pct").textContent, "42%");
    assert.equal(parseFloat(row.querySelector(".qmon-fill").style.width), 42);
    assert.match(text, /430 \/ 1024 shots/);
    assert.match(text, /2150 shots\/s/);
    assert.match(text, /300 ms/);
    assert.match(text, /1\.2 s/);
    assert.match(text, /#3/);
    assert.match(text, /sampling/);
    assert.equal(row.querySelector(".qmon-badge").textContent, "running");
    assert.equal(row.querySelector(".qmon-bar").getAttribute("aria-valuenow"), "42");
  });

  test("absent capabilities show n/a instead of buttons, and their fields one mark", () => {
    const caps = { cancel: true, pause: false, queue_position: false, eta: false };
    const { el } = setup({ jobs: [snapshot({ capabilities: caps, status: "queued", queue_position: null })] });
    const row = rowsOf(el)[0];
    assert.equal(row.querySelector("button.qmon-pause"), null);
    assert.ok(row.querySelector("button.qmon-cancel"));
    assert.match(row.querySelector('.qmon-na[data-capability="pause"]').textContent, /n\/a/);
    const values = [...row.querySelectorAll(".qmon-field-value")].map((v) => v.textContent);
    // "ETA n/a" and "ETA –" would say the same thing: a field that does not apply shows "–"
    assert.ok(values.filter((v) => v === "–").length >= 2, values.join("|"));
    assert.ok(!values.includes("n/a"), values.join("|"));
  });

  test("pause shows for running jobs and resume for paused ones", () => {
    const { el, model } = setup({ jobs: [snapshot({ status: "running" })] });
    let row = rowsOf(el)[0];
    assert.ok(row.querySelector("button.qmon-pause"));
    assert.equal(row.querySelector("button.qmon-resume"), null);
    const pauseButton = row.querySelector("button.qmon-pause");
    model.set("jobs", [snapshot({ status: "paused" })]);
    row = rowsOf(el)[0];
    assert.ok(row.querySelector("button.qmon-resume"));
    assert.equal(row.querySelector("button.qmon-pause"), null);
    model.set("jobs", [snapshot({ status: "running", progress: 0.5 })]);
    assert.equal(rowsOf(el)[0].querySelector("button.qmon-pause"), pauseButton, "buttons are kept, not rebuilt");
  });

  test("updates keep the same row and button elements (a click is never lost)", () => {
    const { el, model } = setup({ jobs: [snapshot({ progress: 0.1 })] });
    const row = rowsOf(el)[0];
    const button = row.querySelector("button.qmon-cancel");
    for (let i = 2; i < 10; i++) model.set("jobs", [snapshot({ progress: i / 10 })]);
    assert.equal(rowsOf(el)[0], row);
    assert.equal(row.querySelector("button.qmon-cancel"), button);
    assert.equal(row.querySelector(".qmon-pct").textContent, "90%");
  });

  test("finished jobs have no action buttons; failures show the error text", () => {
    const { el } = setup({ jobs: [snapshot({ status: "failed", error: { type: "QmonError", message: "mid-circuit measure" } })] });
    const row = rowsOf(el)[0];
    assert.equal(row.querySelector(".qmon-actions").hasAttribute("hidden"), true);
    assert.equal(row.querySelector(".qmon-error").textContent, "QmonError: mid-circuit measure");
  });

  test("a hostile job name renders as exactly those characters", () => {
    const hostile = "<img src=x onerror=alert(1)>";
    const { el } = setup({ jobs: [snapshot({ name: hostile, message: "<b>bold</b>", error: { type: "<script>", message: "<i>x</i>" }, status: "failed" })] });
    assert.equal(el.querySelector(".qmon-job-name").textContent, hostile);
    assert.equal(el.querySelectorAll("img").length, 0);
    assert.equal(el.querySelectorAll("b, i, script").length, 0);
  });

  test("filters by status and type, locally and in the model", () => {
    const jobs = [snapshot({ id: "s1" }), snapshot({ id: "o1", type: "optimization" }), snapshot({ id: "c1", status: "completed", finished_at: "2026-11-29T08:01:00Z" })];
    const { el, model } = setup({ jobs, counts: { total: 3 } });
    const [statusSelect, typeSelect] = el.querySelectorAll(".qmon-toolbar select");
    statusSelect.value = "running";
    statusSelect.dispatchEvent(new window.Event("change"));
    assert.deepEqual(rowsOf(el).map((r) => r.dataset.jobId).sort(), ["o1", "s1"]); // their order is not the subject here
    typeSelect.value = "optimization";
    typeSelect.dispatchEvent(new window.Event("change"));
    assert.deepEqual(rowsOf(el).map((r) => r.dataset.jobId), ["o1"]);
    assert.deepEqual(model.get("filters"), { status: "running", type: "optimization" });
    assert.ok(model.saved >= 2);
    statusSelect.value = "cancelled";
    statusSelect.dispatchEvent(new window.Event("change"));
    assert.equal(rowsOf(el).length, 0);
    assert.equal(el.querySelector(".qmon-nomatch").hasAttribute("hidden"), false);
  });

  test("with many jobs the table says which of them this page shows", () => {
    const { el } = setup({ jobs: [snapshot()], counts: { total: 1000, matching: 1000, offset: 0, limit: 25, by_status: { running: 1, completed: 999 } } });
    assert.equal(el.querySelector(".qmon-page-info").textContent, "1 of 1000");
    assert.equal(el.querySelector(".qmon-more").textContent, "");
  });

  test("cancel falls back to the comm when the server has no qmon extension, and says so", async () => {
    const { el, model, noServer } = setup({ jobs: [snapshot()] });
    el.querySelector("button.qmon-cancel").click();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(noServer.calls.length, 1);
    assert.match(noServer.calls[0].url, /api\/qmon\/jobs\/a1b2c3d4e5f6\/cancel$/);
    assert.deepEqual(model.sent, [{ action: "cancel", job_id: "a1b2c3d4e5f6" }]);
    assert.match(el.querySelector(".qmon-job .qmon-note").textContent, /running cell/);
  });

  test("cancel goes over REST with the XSRF cookie when the server answers", async () => {
    installDom();
    document.cookie = "_xsrf=tok%3D1";
    const rest = fakeFetch(() => ({ status: 202, body: snapshot({ status: "cancelled" }) }));
    const timers = new FakeTimers();
    const model = new FakeModel({ jobs: [snapshot()], counts: { total: 1 } });
    const el = document.createElement("div");
    renderDashboard({ model, el, options: { timers, fetchImpl: rest, doc: document } });
    el.querySelector("button.qmon-cancel").click();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(rest.calls.length, 1);
    assert.equal(rest.calls[0].init.method, "POST");
    assert.equal(rest.calls[0].init.headers["X-XSRFToken"], "tok=1");
    assert.equal(rest.calls[0].url, "/api/qmon/jobs/a1b2c3d4e5f6/cancel");
    assert.deepEqual(model.sent, []);
  });

  test("a 409 from the server is shown, not retried over the comm", async () => {
    installDom();
    const rest = fakeFetch(() => ({ status: 409, body: { message: "job already completed" } }));
    const model = new FakeModel({ jobs: [snapshot()], counts: { total: 1 } });
    const el = document.createElement("div");
    renderDashboard({ model, el, options: { timers: new FakeTimers(), fetchImpl: rest, doc: document } });
    el.querySelector("button.qmon-cancel").click();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(model.sent, []);
    assert.match(el.querySelector(".qmon-job .qmon-note").textContent, /already completed/);
  });

  test("notifications pop as toasts, dismiss and auto-dismiss", async () => {
    const { el, model, timers } = setup();
    model.set("notifications", [{ id: "n1", level: "success", title: "Job done", message: "<b>bell</b> completed", ttl_s: 5, dismissed: false }]);
    let toasts = el.querySelectorAll(".qmon-toast");
    assert.equal(toasts.length, 1);
    assert.equal(toasts[0].dataset.level, "success");
    assert.match(toasts[0].textContent, /<b>bell<\/b> completed/);
    timers.advance(5100);
    assert.equal(el.querySelectorAll(".qmon-toast").length, 0, "auto-dismissed after ttl");
    model.set("notifications", [...model.get("notifications"), { id: "n2", level: "error", title: "Job failed", message: "x", dismissed: false }]);
    toasts = el.querySelectorAll(".qmon-toast");
    assert.equal(toasts.length, 1);
    toasts[0].querySelector("button").click();
    assert.equal(el.querySelectorAll(".qmon-toast").length, 0);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(model.sent.at(-1), { action: "dismiss", notification_id: "n2" });
  });

  test("a new view does not replay old notifications; only news pops", () => {
    const notes = Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, level: "error", title: `t${i}`, message: "", dismissed: false }));
    const { el, model } = setup({ notifications: notes });
    assert.equal(el.querySelectorAll(".qmon-toast").length, 0);
    model.set("notifications", [...notes, { id: "new", level: "info", title: "fresh", message: "", dismissed: false }]);
    assert.deepEqual([...el.querySelectorAll(".qmon-toast")].map((t) => t.dataset.notificationId), ["new"]);
  });

  test("a job's notification does not pop while its row is on screen", () => {
    const { el, model } = setup({ jobs: [snapshot({ id: "shown", status: "completed" })] });
    model.set("notifications", [
      { id: "n1", level: "success", title: "shown completed", message: "", job_id: "shown", dismissed: false },
      { id: "n2", level: "error", title: "other failed", message: "", job_id: "elsewhere", dismissed: false },
    ]);
    assert.deepEqual([...el.querySelectorAll(".qmon-toast")].map((t) => t.dataset.notificationId), ["n2"]);
  });

  test("CPU and memory sparklines with current figures", () => {
    const history = [10, 50, 30].map((c, i) => ({ time: `t${i}`, cpu_percent: c, rss_bytes: (i + 1) * 1048576, available_bytes: 4 * 1073741824 }));
    const { el } = setup({ resources: { latest: history[2], history } });
    const lines = el.querySelectorAll(".qmon-resources polyline");
    assert.equal(lines.length, 2);
    assert.equal(lines[0].getAttribute("points").split(" ").length, 3);
    assert.equal(el.querySelector(".qmon-cpu").textContent, "30%");
    assert.match(el.querySelector(".qmon-mem").textContent, /3\.00 MiB used, 4\.00 GiB free/);
  });

  test("statistics panel lists the numbers", () => {
    const { el } = setup({ stats: { total: 12, success_rate: 0.75, mean_duration_s: 2.5, by_status: { completed: 9, failed: 3 } } });
    const text = el.querySelector(".qmon-stats").textContent;
    assert.match(text, /Total12/);
    assert.match(text, /Success rate75%/);
    assert.match(text, /Mean duration2\.5 s/);
    assert.match(text, /completed 9 · failed 3/);
  });

  test("export downloads the jobs as JSON (what the view holds without the server)", async () => {
    let saved = null;
    const { el, noServer } = setup({ jobs: [snapshot()], counts: { total: 1 } }, { download: (name, text) => (saved = { name, text }) });
    el.querySelector("button.qmon-export").click();
    await new Promise((r) => setTimeout(r, 10));
    assert.match(noServer.calls[0].url, /api\/qmon\/export\?format=json$/);
    assert.match(saved.name, /^qmon-jobs-.*\.json$/);
    const data = JSON.parse(saved.text);
    assert.equal(data.jobs[0].id, "a1b2c3d4e5f6");
  });

  test("export takes the server's full history when there is one", async () => {
    installDom();
    let saved = null;
    const history = { jobs: [snapshot({ id: "old" }), snapshot({ id: "older" })] };
    const rest = fakeFetch(() => ({ status: 200, body: history }));
    const model = new FakeModel({ jobs: [], counts: { total: 0 } });
    const el = document.createElement("div");
    renderDashboard({ model, el, options: { timers: new FakeTimers(), fetchImpl: rest, doc: document, download: (name, text) => (saved = { name, text }) } });
    el.querySelector("button.qmon-export").click();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(JSON.parse(saved.text).jobs.map((j) => j.id), ["old", "older"]);
  });

  test("a silent kernel shows as disconnected; a heartbeat brings it back", () => {
    const { el, model, timers } = setup({}, { staleAfterMs: 3000 });
    const root = el.querySelector(".qmon-root");
    // watchConnection reads Date.now(); move it forward while the fake interval fires.
    assert.equal(root.dataset.connection, "live");
    const realNow = Date.now;
    try {
      Date.now = () => realNow() + 10000;
      timers.advance(1000);
      assert.equal(root.dataset.connection, "disconnected");
      assert.equal(el.querySelector(".qmon-conn").textContent, "disconnected");
      model.set("heartbeat", 1);
      assert.equal(root.dataset.connection, "live");
    } finally {
      Date.now = realNow;
    }
  });

  test("cleanup removes the view, its listeners and its timers", () => {
    const { el, model, timers, cleanup } = setup({ notifications: [{ id: "n", title: "x", dismissed: false }] });
    assert.ok(model.listenerCount() > 0);
    cleanup();
    assert.equal(model.listenerCount(), 0);
    assert.equal(timers.pending, 0);
    assert.equal(el.childNodes.length, 0);
  });

  test("the stylesheet uses JupyterLab theme variables with fallbacks", () => {
    setup();
    const css = document.getElementById("qmon-styles").textContent;
    assert.match(css, /var\(--jp-layout-color1, #[0-9a-f]+\)/);
    assert.match(css, /var\(--jp-ui-font-color1, #[0-9a-f]+\)/);
  });
});

test("a quiet running job's elapsed time keeps counting", () => {
  installDom();
  const timers = new FakeTimers();
  const model = new FakeModel({ jobs: [snapshot({ elapsed_s: 5 })], counts: { total: 1 } });
  const el = document.createElement("div");
  const realNow = Date.now;
  const start = realNow();
  try {
    Date.now = () => start;
    renderDashboard({ model, el, options: { timers, staleAfterMs: 1e9 } });
    const elapsed = () => [...el.querySelectorAll(".qmon-field")].find((f) => f.textContent.startsWith("Elapsed")).textContent;
    assert.equal(elapsed(), "Elapsed5.0 s");
    Date.now = () => start + 3000;
    timers.advance(1000);
    assert.equal(elapsed(), "Elapsed8.0 s");
  } finally {
    Date.now = realNow;
  }
});
