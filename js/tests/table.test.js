import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { FakeModel, FakeTimers, fakeFetch, installDom, snapshot } from "./helpers.js";

installDom();
const { renderDashboard } = await import("../src/render/dashboard.js");
const { RestModel } = await import("../src/render/rest_model.js");
const { nextSort, pageText, statusText, tableColumns } = await import("../src/render/table.js");

function jobs(n, from = 0) {
  return Array.from({ length: n }, (_, i) => snapshot({ id: `job${String(from + i).padStart(3, "0")}`, name: `job #${from + i + 1}`, status: "running", progress: (from + i) / 100 }));
}

function setup(state = {}, options = {}) {
  installDom();
  const timers = new FakeTimers();
  const model = new FakeModel({ jobs: [], counts: { total: 0, by_status: {} }, stats: {}, resources: null, notifications: [], heartbeat: 0, filters: { status: "", type: "" }, view: {}, ...state });
  const el = document.createElement("div");
  document.body.appendChild(el);
  const fetchImpl = options.fetchImpl || fakeFetch(() => ({ status: 404, body: {} }));
  const cleanup = renderDashboard({ model, el, options: { timers, fetchImpl, doc: document, ...options } });
  return { model, el, timers, cleanup, fetchImpl };
}

const trows = (el) => [...el.querySelectorAll("tr.qmon-trow")];
const many = (n = 25, total = 60) => ({ jobs: jobs(n), counts: { total, matching: total, offset: 0, limit: 25, by_status: { running: total } } });

describe("table", () => {
  beforeEach(() => installDom());

  test("up to five jobs show as cards; more show as one table row each", () => {
    const few = setup({ jobs: jobs(5), counts: { total: 5 } });
    assert.equal(few.el.querySelectorAll(".qmon-joblist .qmon-job").length, 5);
    assert.equal(few.el.querySelector(".qmon-table-view").hasAttribute("hidden"), true);
    const { el } = setup(many());
    assert.equal(el.querySelector(".qmon-table-view").hasAttribute("hidden"), false);
    assert.equal(el.querySelector(".qmon-joblist").hasAttribute("hidden"), true);
    assert.equal(trows(el).length, 25);
    const first = trows(el)[0];
    assert.equal(first.querySelector(".qmon-badge").textContent, "running");
    assert.equal(first.querySelector(".qmon-job-name").textContent, "job #1");
    assert.equal(first.querySelector(".qmon-pct").textContent, "0%");
    assert.equal(el.querySelector(".qmon-page-info").textContent, "1–25 of 60");
  });

  test("the widget's table has no kernel column; the page's has", () => {
    const widget = setup(many());
    assert.equal(widget.el.querySelector("th.qmon-col-kernel"), null);
    const page = setup(many(), { showKernel: true });
    assert.equal(page.el.querySelector("tr.qmon-trow td.qmon-col-kernel").textContent, "k1");
    assert.deepEqual(tableColumns({ showKernel: true }).map((c) => c.key).at(-1), "kernel");
  });

  test("a hostile name is text in the table", () => {
    const hostile = "<img src=x onerror=alert(1)>";
    const { el } = setup({ ...many(), jobs: [snapshot({ name: hostile }), ...jobs(6)] });
    assert.equal(trows(el)[0].querySelector(".qmon-job-name").textContent, hostile);
    assert.equal(el.querySelectorAll("img").length, 0);
  });

  test("a header click asks the host to sort, and aria-sort says how", () => {
    const { el, model } = setup(many());
    const th = el.querySelector('th[data-column="eta"]');
    assert.equal(th.getAttribute("aria-sort"), "none");
    th.querySelector("button").click();
    assert.equal(model.get("view").sort, "eta");
    assert.equal(th.getAttribute("aria-sort"), "ascending");
    th.querySelector("button").click();
    assert.equal(model.get("view").sort, "-eta");
    assert.equal(th.getAttribute("aria-sort"), "descending");
    assert.ok(model.saved >= 2);
    assert.equal(nextSort("-eta", "eta"), "");
    assert.equal(nextSort("name", "eta"), "eta");
  });

  test("a column sort keeps the host's order (it spans pages)", () => {
    const rows = [snapshot({ id: "b", status: "completed", finished_at: "2026-11-29T08:00:00Z" }), ...jobs(6)];
    const { el } = setup({ ...many(), jobs: rows, view: { sort: "name" } });
    assert.equal(trows(el)[0].dataset.jobId, "b");
  });

  test("the search box filters through the view after a pause in typing", () => {
    const { el, model, timers } = setup(many());
    const box = el.querySelector('input[type="search"]');
    box.value = "RB sequence 042";
    box.dispatchEvent(new window.Event("input"));
    assert.equal(model.get("view").q ?? "", "");
    timers.advance(300);
    assert.deepEqual(model.get("view"), { q: "RB sequence 042", sort: "", offset: 0, limit: 25 });
  });

  test("a search still being typed is not overwritten by an update", () => {
    const { el, model, timers } = setup(many());
    const box = el.querySelector('input[type="search"]');
    box.value = "RB";
    box.dispatchEvent(new window.Event("input"));
    el.querySelector('th[data-column="name"] button').click(); // moves focus away, re-renders
    assert.equal(box.value, "RB");
    timers.advance(300);
    assert.equal(model.get("view").q, "RB");
    assert.equal(model.get("view").sort, "name");
  });

  test("next and previous page move the view's offset by what was shown", () => {
    const { el, model } = setup(many());
    const next = el.querySelector("button.qmon-next");
    const prev = el.querySelector("button.qmon-prev");
    assert.equal(prev.disabled, true);
    next.click();
    assert.equal(model.get("view").offset, 25);
    model.set("counts", { total: 60, matching: 60, offset: 50, limit: 25 });
    model.set("jobs", jobs(10, 50));
    assert.equal(el.querySelector(".qmon-page-info").textContent, "51–60 of 60");
    assert.equal(next.disabled, true);
    assert.equal(trows(el).at(-1).querySelector(".qmon-job-name").textContent, "job #60");
    prev.click();
    assert.equal(model.get("view").offset, 25);
  });

  test("a click on a row opens its card under it; another click closes it", () => {
    const { el, model } = setup(many());
    trows(el)[2].click();
    const detail = el.querySelector("tr.qmon-detail");
    assert.equal(detail.previousSibling, trows(el)[2]);
    assert.equal(trows(el)[2].getAttribute("aria-expanded"), "true");
    assert.ok(detail.querySelector(".qmon-job button.qmon-cancel"));
    model.set("jobs", jobs(25).map((j) => ({ ...j, progress: 0.9 })));
    assert.equal(el.querySelector("tr.qmon-detail .qmon-pct").textContent, "90%");
    trows(el)[2].click();
    assert.equal(el.querySelector("tr.qmon-detail"), null);
  });

  test("cancel selected cancels each selected job over the action path", async () => {
    const rows = [...jobs(6), snapshot({ id: "done", status: "completed", finished_at: "2026-11-29T08:00:00Z" })];
    const fetchImpl = fakeFetch(() => ({ status: 202, body: {} }));
    const { el } = setup({ ...many(), jobs: rows }, { fetchImpl });
    const bulk = el.querySelector("button.qmon-bulk-cancel");
    assert.equal(bulk.disabled, true);
    assert.equal(trows(el).at(-1).querySelector("input.qmon-select").disabled, true, "a finished job cannot be selected");
    for (const i of [1, 3]) {
      const box = trows(el)[i].querySelector("input.qmon-select");
      box.checked = true;
      box.dispatchEvent(new window.Event("change"));
    }
    assert.equal(bulk.textContent, "Cancel selected (2)");
    bulk.click();
    await new Promise((r) => setTimeout(r, 10));
    const posts = fetchImpl.calls.filter((c) => c.init.method === "POST").map((c) => c.url);
    assert.deepEqual(posts.sort(), ["/api/qmon/jobs/job001/cancel", "/api/qmon/jobs/job003/cancel"]);
    assert.equal(el.querySelector(".qmon-table-note").textContent, "Cancel sent for 2 jobs.");
    assert.equal(bulk.disabled, true);
  });

  test("a queued job's status cell says its place in the queue", () => {
    assert.equal(statusText(snapshot({ status: "queued", queue_position: 2 })), "queued #2");
    assert.equal(statusText(snapshot({ status: "queued", queue_position: ">2000" })), "queued >2000");
    assert.equal(statusText(snapshot({ status: "queued", queue_position: null })), "queued");
    assert.equal(statusText(snapshot({ status: "queued", queue_position: 3, capabilities: { queue_position: false } })), "queued");
    assert.equal(statusText(snapshot({ status: "running", queue_position: 3 })), "running");
  });

  test("page text", () => {
    assert.equal(pageText(0, 0, 0), "0 of 0");
    assert.equal(pageText(25, 25, 60), "26–50 of 60");
    assert.equal(pageText(0, 1, 1), "1 of 1");
  });
});

describe("REST model paging", () => {
  test("the page's jobs are the GET jobs page of the view, events update them in place", async () => {
    installDom('<!doctype html><html><head></head><body data-base-url="/b/"></body></html>');
    const page = jobs(25, 25);
    const fetchImpl = fakeFetch((url) => (url.includes("api/qmon/jobs?") ? { body: { jobs: page, total: 60 } } : { body: { jobs: [], stats: { total: 60 } } }));
    const timers = new FakeTimers();
    const model = new RestModel({ base: "/b/", fetchImpl, EventSourceImpl: null, timers, doc: document });
    model.set("view", { q: "job", sort: "-eta", offset: 25, limit: 25 });
    await new Promise((r) => setTimeout(r, 10));
    const url = new URL(fetchImpl.calls.at(-1).url, "http://x");
    assert.equal(url.pathname, "/b/api/qmon/jobs");
    assert.deepEqual(Object.fromEntries(url.searchParams), { sort: "-eta", limit: "25", offset: "25", q: "job" });
    assert.deepEqual(model.get("jobs").map((j) => j.id), page.map((j) => j.id));
    assert.equal(model.get("counts").matching, 60);
    assert.equal(model.get("counts").offset, 25);
    model.applyEvent({ kind: "job.progress", snapshot: { ...page[0], progress: 0.99, updated_at: "2026-11-29T09:00:00Z" } });
    assert.equal(model.get("jobs")[0].progress, 0.99);
    const before = fetchImpl.calls.length;
    model.applyEvent({ kind: "job.created", snapshot: snapshot({ id: "new" }) });
    model.applyEvent({ kind: "job.created", snapshot: snapshot({ id: "new2" }) });
    timers.advance(400);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(fetchImpl.calls.length, before + 1, "a burst of events asks for the page once");
    model.applyState({ jobs: jobs(3), stats: { total: 61 } });
    assert.equal(model.get("jobs").length, 25, "the dashboard refresh keeps the page");
    assert.equal(model.get("counts").total, 61);
    assert.equal(model.get("counts").matching, 60);
    model.stop();
  });

  test("without a sort the page asks for the dashboard's order", () => {
    const model = new RestModel({ base: "/", fetchImpl: fakeFetch(() => ({})), EventSourceImpl: null });
    assert.match(model.pageUrl(), /sort=dashboard/);
  });
});
