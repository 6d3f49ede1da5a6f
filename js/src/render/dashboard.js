// The dashboard: every job of a kernel (or of the server, on the /qmon/ page),
// active first, with filters, resources, statistics, notifications and export.
// Written against the anywidget model interface only (get/set/on/off/
// save_changes/send), so any object with those methods can feed it.

import { authHeaders, baseUrl, sendAction } from "./actions.js";
import { createSparkline } from "./charts.js";
import { watchConnection } from "./connection.js";
import { h, setText, toggleAttr } from "./dom.js";
import { formatBytes, formatPercent } from "./format.js";
import { createJobRow } from "./jobrow.js";
import { createStatsPanel } from "./stats.js";
import { ensureStyles } from "./styles.js";
import { createJobTable, ensureTableStyles } from "./table.js";
import { createToasts } from "./toasts.js";
import { ACTIVE_STATUSES, STATUSES, STATUS_ORDER, TYPES, sortJobs } from "./vocabulary.js";

export { STATUSES, TYPES, sortJobs };

/** Whether a job's row is drawn and inside the window (without layout, as in tests: drawn). */
function rowOnScreen(row) {
  if (!row?.el.isConnected) return false;
  const box = row.el.getBoundingClientRect?.();
  if (!box || (box.width === 0 && box.height === 0)) return true;
  const height = globalThis.innerHeight ?? Number.POSITIVE_INFINITY;
  return box.bottom > 0 && box.top < height;
}

/** Above this many jobs the dashboard shows the compact table instead of cards. */
export const CARDS_UP_TO = 5;
/** Rows on a page of the table unless the host says otherwise. */
export const PAGE_SIZE = 25;

/** The table's view: {q, sort, offset, limit}, with defaults for what is missing. */
export function normalizeView(view) {
  const v = view && typeof view === "object" ? view : {};
  return {
    q: typeof v.q === "string" ? v.q : "",
    sort: typeof v.sort === "string" ? v.sort : "",
    offset: Number.isInteger(v.offset) && v.offset > 0 ? v.offset : 0,
    limit: Number.isInteger(v.limit) && v.limit > 0 ? v.limit : PAGE_SIZE,
  };
}

/** What a bulk cancel says: "Cancel sent for 3 jobs." plus each refusal. */
export function bulkText(results) {
  const ok = results.filter((r) => r.ok);
  const parts = [];
  if (ok.length) parts.push(`Cancel sent for ${ok.length} job${ok.length === 1 ? "" : "s"}.`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) parts.push(`${failed.length} refused: ${failed[0].message || "not allowed"}`);
  const comm = ok.find((r) => r.via === "comm");
  if (comm) parts.push(comm.message);
  return parts.join(" ");
}

export function filterJobs(jobs, filters) {
  const status = filters?.status || "";
  const type = filters?.type || "";
  return jobs.filter((j) => (!status || j.status === status) && (!type || j.type === type));
}

/** Normalize the resources value: {latest, history:[...]} or a bare history list. */
export function normalizeResources(resources) {
  if (Array.isArray(resources)) return { latest: resources.at(-1) || null, history: resources };
  if (!resources || typeof resources !== "object") return { latest: null, history: [] };
  const history = Array.isArray(resources.history) ? resources.history : [];
  return { latest: resources.latest || history.at(-1) || null, history };
}

function countsByStatus(model, jobs) {
  const counts = model.get("counts");
  if (counts && counts.by_status) return counts.by_status;
  const by = {};
  for (const j of jobs) by[j.status] = (by[j.status] || 0) + 1;
  return by;
}

function summaryText(byStatus) {
  const parts = STATUS_ORDER.filter((s) => byStatus[s]).map((s) => `${byStatus[s]} ${s}`);
  return parts.length ? parts.join(" · ") : "no jobs yet";
}

function select(label, values, onChange) {
  const el = h("select", { "aria-label": label }, h("option", { value: "" }, `All ${label.toLowerCase()}es`.replace("typees", "types")), values.map((v) => h("option", { value: v }, v)));
  el.addEventListener("change", () => onChange(el.value));
  return el;
}

function emptyState() {
  return h(
    "div",
    { class: "qmon-empty" },
    h("div", { class: "qmon-empty-title" }, "No jobs yet."),
    h("div", {}, "Run a cell that starts with ", h("code", {}, "%%qmon --shots 1024"), " followed by an OpenQASM 2 program, or call ", h("code", {}, "qmon.submit(circuit)"), " with a Qiskit circuit. Each job shows up here with its progress, ETA and a cancel button."),
    h("div", {}, "First time? Run ", h("code", {}, "%load_ext qmon_jupyter"), " and open notebooks/quickstart.ipynb."),
  );
}

/** The JSON export: what this view knows (the /qmon/ page links to the server's full export). */
export function exportPayload(model) {
  return {
    exported_at: new Date().toISOString(),
    kernel_id: model.get("kernel_id") ?? null,
    counts: model.get("counts") ?? null,
    stats: model.get("stats") ?? null,
    jobs: model.get("jobs") ?? [],
  };
}

async function fetchExport(model, options) {
  const fetchImpl = options.fetchImpl || globalThis.fetch;
  if (typeof fetchImpl !== "function") return null;
  const url = model.exportUrl || `${baseUrl(options.doc)}api/qmon/export?format=json`;
  try {
    const response = await fetchImpl(url, { credentials: "same-origin", headers: authHeaders(options.doc) });
    if (!response.ok) return null;
    const body = await response.json();
    return JSON.stringify(body, null, 2);
  } catch {
    return null;
  }
}

function download(doc, filename, text) {
  const win = doc.defaultView || globalThis;
  if (!win.URL?.createObjectURL || !win.Blob) return false;
  const url = win.URL.createObjectURL(new win.Blob([text], { type: "application/json" }));
  const a = h("a", { href: url, download: filename, hidden: true });
  doc.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => win.URL.revokeObjectURL(url), 1000);
  return true;
}

/**
 * Render the dashboard into `el`. Returns the cleanup function.
 * options: {staleAfterMs, timers, download(filename, text)} (the last two for tests).
 */
export function renderDashboard({ model, el, options = {} }) {
  ensureStyles(el);
  ensureTableStyles(el);
  const doc = el.ownerDocument || document;
  const timers = options.timers || globalThis;
  const rows = new Map(); // job id -> row api
  let filters = { status: "", type: "", ...(model.get("filters") || {}) };
  let view = normalizeView(model.get("view"));

  const summary = h("span", { class: "qmon-summary" });
  const conn = h("span", { class: "qmon-conn", title: "Connection to the kernel" }, "live");
  const exportButton = h("button", { type: "button", class: "qmon-export", title: "Download the jobs shown as JSON" }, "Export JSON");
  const cpu = createSparkline("CPU history");
  const mem = createSparkline("Memory history");
  const cpuText = h("span", { class: "qmon-cpu" });
  const memText = h("span", { class: "qmon-mem" });
  const resources = h(
    "div",
    { class: "qmon-resources" },
    h("span", { class: "qmon-resource" }, "CPU", cpu.el, cpuText),
    h("span", { class: "qmon-resource" }, "Memory", mem.el, memText),
  );
  const statusSelect = select("Status", STATUSES, (v) => setFilter({ status: v }));
  const typeSelect = select("Type", TYPES, (v) => setFilter({ type: v }));
  statusSelect.value = filters.status;
  typeSelect.value = filters.type;
  const list = h("div", { class: "qmon-joblist", role: "list" });
  const empty = emptyState();
  const noMatch = h("div", { class: "qmon-empty qmon-nomatch" }, "No jobs match this search or filter.");
  const more = h("div", { class: "qmon-more" });
  const table = createJobTable({
    onView: (change) => setView(change),
    onAction: (action, jobId, r) => act(action, { job_id: jobId }, r),
    onBulkCancel: async (ids) => bulkText(await Promise.all(ids.map((id) => sendAction(model, { action: "cancel", job_id: id }, options)))),
    // The page shows every kernel's jobs: which kernel runs each one matters there.
    showKernel: options.showKernel ?? Boolean(model.qmonRest),
    timers,
  });
  const note = h("div", { class: "qmon-note qmon-global-note" });
  const stats = createStatsPanel();
  const toasts = createToasts((id) => act("dismiss", { notification_id: id }), {
    timers,
    onScreen: (jobId) => rowOnScreen(rows.get(jobId)),
  });
  const body = h(
    "div",
    { class: "qmon-body" },
    resources,
    h("div", { class: "qmon-toolbar" }, "Filter:", statusSelect, typeSelect),
    toasts.el,
    list,
    table.el,
    empty,
    noMatch,
    more,
    note,
    stats.el,
  );
  const root = h(
    "div",
    { class: "qmon-root qmon-dashboard" },
    h("div", { class: "qmon-header" }, h("span", { class: "qmon-title" }, "Quantum jobs"), summary, h("span", { class: "qmon-spacer" }), conn, exportButton),
    body,
  );
  el.appendChild(root);

  async function act(action, payload, row) {
    const result = await sendAction(model, { action, ...payload }, options);
    const text = result.message || "";
    if (row) row.setNote(text);
    else setText(note, text);
  }

  function setFilter(change) {
    filters = { ...filters, ...change };
    model.set("filters", { ...filters });
    if (view.offset) setView({ offset: 0 }, false);
    model.save_changes();
    renderJobs();
  }

  function setView(change, save = true) {
    view = { ...view, ...change };
    model.set("view", { ...view });
    if (!save) return;
    model.save_changes();
    renderJobs();
  }

  function renderJobs() {
    const jobs = Array.isArray(model.get("jobs")) ? model.get("jobs") : [];
    // A column sort is the host's (kernel or REST) and spans every page: keep its order.
    const filtered = filterJobs(jobs, filters);
    const shown = view.sort ? filtered : sortJobs(filtered);
    const counts = model.get("counts") || {};
    const total = typeof counts.total === "number" ? counts.total : jobs.length;
    const matching = typeof counts.matching === "number" ? counts.matching : total;
    const tableMode = total > CARDS_UP_TO || Boolean(view.q);
    toggleAttr(list, "hidden", tableMode);
    table.show(tableMode);
    if (tableMode) {
      for (const row of rows.values()) row.el.remove();
      rows.clear();
      const offset = typeof counts.offset === "number" ? counts.offset : view.offset;
      const limit = typeof counts.limit === "number" ? counts.limit : view.limit;
      table.update(shown, { offset, matching, limit, sort: view.sort, q: view.q });
    } else table.update([], { offset: 0, matching: 0, limit: view.limit, sort: view.sort, q: view.q });
    const ids = new Set();
    (tableMode ? [] : shown).forEach((snapshot, i) => {
      const id = String(snapshot.id);
      ids.add(id);
      let row = rows.get(id);
      if (!row) {
        row = createJobRow((action, jobId, r) => act(action, { job_id: jobId }, r));
        row.el.setAttribute("role", "listitem");
        rows.set(id, row);
      }
      row.update(snapshot);
      if (!ACTIVE_STATUSES.has(snapshot.status)) row.setNote("");
      if (list.childNodes[i] !== row.el) list.insertBefore(row.el, list.childNodes[i] || null);
    });
    for (const [id, row] of rows) {
      if (!ids.has(id)) {
        row.el.remove();
        rows.delete(id);
      }
    }
    toggleAttr(empty, "hidden", !(total === 0 && jobs.length === 0));
    toggleAttr(noMatch, "hidden", !(shown.length === 0 && (jobs.length > 0 || total > 0)));
    setText(more, !tableMode && matching > shown.length ? `Showing ${shown.length} of ${matching} jobs (active first, then the most recent).` : "");
    setText(summary, summaryText(countsByStatus(model, jobs)));
  }

  function renderResources() {
    const { latest, history } = normalizeResources(model.get("resources"));
    const cpuValues = history.map((r) => r.cpu_percent);
    cpu.update(cpuValues, 100);
    mem.update(history.map((r) => r.rss_bytes), 1);
    setText(cpuText, latest && typeof latest.cpu_percent === "number" ? formatPercent(latest.cpu_percent / 100) : "n/a");
    const memParts = [];
    if (latest && typeof latest.rss_bytes === "number") memParts.push(`${formatBytes(latest.rss_bytes)} used`);
    if (latest && typeof latest.available_bytes === "number") memParts.push(`${formatBytes(latest.available_bytes)} free`);
    setText(memText, memParts.join(", ") || "n/a");
  }

  const renderStats = () => stats.update(model.get("stats"));
  const renderToasts = () => toasts.update(model.get("notifications"));
  const onFilters = () => {
    const f = model.get("filters") || {};
    if (f.status === filters.status && f.type === filters.type) return;
    filters = { status: f.status || "", type: f.type || "" };
    statusSelect.value = filters.status;
    typeSelect.value = filters.type;
    renderJobs();
  };
  const onView = () => {
    const v = normalizeView(model.get("view"));
    if (JSON.stringify(v) === JSON.stringify(view)) return;
    view = v;
    renderJobs();
  };
  const onCustom = (msg) => {
    if (msg && msg.type === "action_result" && msg.ok === false) setText(note, msg.message || "The action failed.");
  };
  const onExport = async () => {
    const filename = `qmon-jobs-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
    const save = options.download || ((name, text) => download(doc, name, text));
    // The server's export has the whole history (every kernel, from the store);
    // without it, export what this view holds.
    const full = await fetchExport(model, options);
    save(filename, full ?? JSON.stringify(exportPayload(model), null, 2));
  };
  exportButton.addEventListener("click", onExport);

  const listeners = [
    ["change:jobs", renderJobs],
    ["change:counts", renderJobs],
    ["change:resources", renderResources],
    ["change:stats", renderStats],
    ["change:notifications", renderToasts],
    ["change:filters", onFilters],
    ["change:view", onView],
    ["msg:custom", onCustom],
  ];
  for (const [evt, cb] of listeners) model.on(evt, cb);
  const ticker = timers.setInterval(() => {
    for (const row of rows.values()) row.tick();
    table.tick();
  }, 1000);
  const connection = watchConnection(
    model,
    (state) => {
      root.dataset.connection = state;
      setText(conn, state === "live" ? "live" : "disconnected");
      conn.title = state === "live" ? "Receiving updates" : "No word from the kernel for a while: it may have restarted. Re-run the cell to reconnect.";
    },
    { staleAfterMs: options.staleAfterMs, timers },
  );
  renderJobs();
  renderResources();
  renderStats();
  renderToasts();

  return () => {
    for (const [evt, cb] of listeners) model.off(evt, cb);
    connection.stop();
    timers.clearInterval(ticker);
    toasts.destroy();
    table.destroy();
    exportButton.removeEventListener("click", onExport);
    root.remove();
    rows.clear();
  };
}
