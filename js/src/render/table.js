// The compact table of jobs: one row of at most 32 px per job (status, name,
// progress, ETA, elapsed, backend, and the kernel on the /qmon/ page), sortable
// columns, a search box, row checkboxes for a bulk cancel, and paging. The
// rows are only a page of the jobs: the host (the kernel for the widget, REST
// for the page) sorts, searches and pages, told through `onView`. A click on a
// row opens the job's card (jobrow.js) under it as the detail view.
//
// Names and every other value are set as text (dom.js), never as HTML.

import { h, setText, toggleAttr } from "./dom.js";
import { NA, formatDuration, formatPercent } from "./format.js";
import { createJobRow, etaText, executorText, queueText } from "./jobrow.js";
import { ensureStylesheet } from "./styles.js";
import { ACTIONS, ACTIVE_STATUSES, SORT_COLUMNS } from "./vocabulary.js";

const CANCEL = ACTIONS.find((a) => a.name === "cancel");

/** The columns a table shows, in order; `sort` names the column of core/columns.py. */
export function tableColumns({ showKernel = false } = {}) {
  const columns = [
    { key: "status", label: "Status", sort: "status" },
    { key: "name", label: "Name", sort: "name" },
    { key: "progress", label: "Progress", sort: "progress" },
    { key: "eta", label: "ETA", sort: "eta" },
    { key: "elapsed", label: "Elapsed", sort: "elapsed" },
    { key: "backend", label: "Backend", sort: "backend" },
  ];
  if (showKernel) columns.push({ key: "kernel", label: "Kernel", sort: "kernel" });
  // Only columns the vocabulary sorts get a sort button.
  return columns.map((c) => (SORT_COLUMNS.includes(c.sort) ? c : { ...c, sort: null }));
}

/** The next sort after a click on `column`'s header: ascending, descending, then none. */
export function nextSort(current, column) {
  if (current === column) return `-${column}`;
  if (current === `-${column}`) return "";
  return column;
}

/** Whether the cancel action can change something for this job. */
export function canCancel(snapshot) {
  const caps = snapshot.capabilities;
  if (caps && typeof caps === "object" && caps[CANCEL.capability] === false) return false;
  return CANCEL.from.has(snapshot.status);
}

/** The status cell: the status, and a queued job's place in the queue ("queued #2"). */
export function statusText(snapshot) {
  const status = String(snapshot.status || "pending");
  if (status !== "queued") return status;
  const place = queueText(snapshot);
  return place.startsWith("#") || ![NA, "…", "–"].includes(place) ? `${status} ${place}` : status;
}

/** "26–50 of 60", "1 of 1", "0 of 0". */
export function pageText(offset, shown, matching) {
  if (!shown) return `0 of ${matching}`;
  const first = offset + 1;
  const last = offset + shown;
  return `${first === last ? first : `${first}–${last}`} of ${matching}`;
}

const TABLE_CSS = `
.qmon-table-view { display: flex; flex-direction: column; gap: 4px; }
.qmon-table-view[hidden] { display: none; }
.qmon-table-tools { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.qmon-table-tools input[type="search"] {
  font: inherit; color: var(--qmon-fg); background: var(--qmon-bg); min-width: 16em;
  border: 1px solid var(--qmon-border); border-radius: 4px; padding: 1px 6px;
}
.qmon-page-info { color: var(--qmon-fg-dim); font-variant-numeric: tabular-nums; }
.qmon-table-scroll { overflow-x: auto; border: 1px solid var(--qmon-border); border-radius: 5px; }
.qmon-table { width: 100%; border-collapse: collapse; table-layout: fixed; }
.qmon-table th, .qmon-table td {
  height: 28px; padding: 0 6px; text-align: left; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; border-bottom: 1px solid var(--qmon-border); font-variant-numeric: tabular-nums;
}
.qmon-table thead th { position: sticky; top: 0; background: var(--qmon-bg-alt); font-weight: 600; z-index: 1; }
.qmon-table th button.qmon-sort {
  border: none; background: none; padding: 0; font-weight: 600; width: 100%; text-align: left; color: var(--qmon-fg);
}
.qmon-table th[aria-sort="ascending"] button.qmon-sort::after { content: " ▲"; font-size: 0.8em; }
.qmon-table th[aria-sort="descending"] button.qmon-sort::after { content: " ▼"; font-size: 0.8em; }
.qmon-table .qmon-col-select { width: 30px; }
.qmon-table .qmon-col-status { width: 112px; }
.qmon-table .qmon-col-progress { width: 180px; }
.qmon-table .qmon-col-eta, .qmon-table .qmon-col-elapsed { width: 86px; }
.qmon-table .qmon-col-backend { width: 120px; }
.qmon-table .qmon-col-kernel { width: 120px; }
.qmon-trow { cursor: pointer; }
.qmon-trow:hover, .qmon-trow:focus-visible { background: var(--qmon-bg-alt); outline: none; }
.qmon-trow[aria-expanded="true"] { background: var(--qmon-bg-alt); }
.qmon-trow .qmon-job-name { font-weight: 500; word-break: normal; }
/* A dot in the status colour beside text in the text colour: readable on either theme. */
.qmon-trow .qmon-badge {
  min-width: 0; background: none; color: var(--qmon-fg); padding: 0 0 0 14px; position: relative;
  border-radius: 0; font-size: inherit; text-align: left;
}
.qmon-trow .qmon-badge::before {
  content: ""; position: absolute; left: 1px; top: 50%; width: 9px; height: 9px; margin-top: -4.5px;
  border-radius: 50%; background: var(--qmon-fg-dim); box-sizing: border-box;
}
.qmon-trow .qmon-badge[data-status="running"]::before { background: var(--qmon-accent); }
.qmon-trow .qmon-badge[data-status="paused"]::before { background: var(--qmon-info); }
.qmon-trow .qmon-badge[data-status="completed"]::before { background: var(--qmon-ok); }
.qmon-trow .qmon-badge[data-status="failed"]::before { background: var(--qmon-err); }
.qmon-trow .qmon-badge[data-status="cancelled"]::before { background: var(--qmon-warn); }
.qmon-trow .qmon-badge[data-status="queued"]::before { background: none; border: 2px solid var(--qmon-fg-dim); }
.qmon-trow .qmon-badge[data-status="pending"]::before { background: none; border: 2px dotted var(--qmon-fg-dim); }
.qmon-tprogress { display: flex; align-items: center; gap: 6px; }
.qmon-tprogress .qmon-bar { height: 7px; }
.qmon-tprogress .qmon-pct { min-width: 3.2em; }
.qmon-trow[data-status="completed"] .qmon-fill { background: var(--qmon-ok); }
.qmon-trow[data-status="failed"] .qmon-fill { background: var(--qmon-err); }
.qmon-trow[data-status="cancelled"] .qmon-fill { background: var(--qmon-warn); }
.qmon-dim { color: var(--qmon-fg-dim); }
.qmon-detail > td { height: auto; white-space: normal; padding: 4px 6px 6px 36px; background: var(--qmon-bg-alt); }
.qmon-detail .qmon-job { margin: 0; }
`;

function cell(key, ...children) {
  return h("td", { class: `qmon-col-${key}` }, ...children);
}

/**
 * Create the table. Callbacks:
 *  onView(change)             the user changed {q, sort, offset}
 *  onAction(action, jobId, r) a button of an expanded card was pressed
 *  onBulkCancel(ids)          "Cancel selected" with these job ids; resolves a note
 * Returns {el, update(jobs, page), tick(), setNote(text), destroy()}; `page` is
 * {offset, matching, limit, sort, q}.
 */
export function createJobTable({ onView, onAction, onBulkCancel, showKernel = false, timers = globalThis, now = () => Date.now(), searchDelayMs = 250 } = {}) {
  const columns = tableColumns({ showKernel });
  const search = h("input", { type: "search", class: "qmon-search", placeholder: "Search name or id", "aria-label": "Search jobs by name or id", maxlength: "200" });
  const bulk = h("button", { type: "button", class: "qmon-bulk-cancel", disabled: true, title: "Cancel every selected job" }, "Cancel selected");
  const info = h("span", { class: "qmon-page-info", "aria-live": "polite" });
  const prev = h("button", { type: "button", class: "qmon-prev", "aria-label": "Previous page" }, "‹ Prev");
  const next = h("button", { type: "button", class: "qmon-next", "aria-label": "Next page" }, "Next ›");
  const note = h("span", { class: "qmon-note qmon-table-note" });
  const selectAll = h("input", { type: "checkbox", class: "qmon-select-all", "aria-label": "Select every cancellable job on this page" });
  const heads = {};
  const headRow = h("tr", {}, h("th", { class: "qmon-col-select", scope: "col" }, selectAll));
  for (const c of columns) {
    const th = h("th", { class: `qmon-col-${c.key}`, scope: "col", "data-column": c.key });
    if (c.sort) {
      th.setAttribute("aria-sort", "none");
      th.appendChild(h("button", { type: "button", class: "qmon-sort", title: `Sort by ${c.label.toLowerCase()}`, onclick: () => onView?.({ sort: nextSort(page.sort, c.sort), offset: 0 }) }, c.label));
    } else th.appendChild(h("span", {}, c.label));
    heads[c.key] = th;
    headRow.appendChild(th);
  }
  const tbody = h("tbody", {});
  const table = h("table", { class: "qmon-table" }, h("thead", {}, headRow), tbody);
  const el = h(
    "div",
    { class: "qmon-table-view" },
    h("div", { class: "qmon-table-tools" }, search, bulk, note, h("span", { class: "qmon-spacer" }), info, prev, next),
    h("div", { class: "qmon-table-scroll" }, table),
  );

  const rows = new Map(); // job id -> row
  const selected = new Set(); // job ids, kept across pages
  let expanded = null; // the job id whose card is open
  let page = { offset: 0, matching: 0, limit: 25, sort: "", q: "" };
  let shownCount = 0;
  let searchTimer = null;

  function createRow(id) {
    const box = h("input", { type: "checkbox", class: "qmon-select", "aria-label": "Select this job" });
    const badge = h("span", { class: "qmon-badge" });
    const name = h("span", { class: "qmon-job-name" });
    const fill = h("div", { class: "qmon-fill" });
    const bar = h("div", { class: "qmon-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, fill);
    const pct = h("span", { class: "qmon-pct" });
    const eta = h("span", {});
    const elapsed = h("span", {});
    const backend = h("span", {});
    const kernel = h("span", { class: "qmon-dim" });
    const cells = [cell("select", box), cell("status", badge), cell("name", name), cell("progress", h("div", { class: "qmon-tprogress" }, bar, pct)), cell("eta", eta), cell("elapsed", elapsed), cell("backend", backend)];
    if (showKernel) cells.push(cell("kernel", kernel));
    const tr = h("tr", { class: "qmon-trow", tabindex: "0", "aria-expanded": "false" }, cells);
    const row = { id, tr, box, snapshot: null, receivedAt: 0, detail: null, card: null };
    box.addEventListener("click", (e) => e.stopPropagation());
    box.addEventListener("change", () => {
      if (box.checked) selected.add(id);
      else selected.delete(id);
      renderSelection();
    });
    tr.addEventListener("click", () => toggle(id));
    tr.addEventListener("keydown", (e) => {
      if (e.target !== tr || (e.key !== "Enter" && e.key !== " ")) return;
      e.preventDefault();
      toggle(id);
    });
    row.render = (snap) => {
      row.snapshot = snap;
      row.receivedAt = now();
      const status = String(snap.status || "pending");
      tr.dataset.jobId = id;
      tr.dataset.status = status;
      badge.dataset.status = status;
      setText(badge, statusText(snap));
      setText(name, snap.name || snap.id || "job");
      name.title = `${snap.name || ""}${snap.name ? " · " : ""}job ${snap.id}`;
      const fraction = typeof snap.progress === "number" ? Math.max(0, Math.min(1, snap.progress)) : 0;
      const percent = status === "completed" ? 100 : fraction * 100;
      const width = `${percent.toFixed(1)}%`;
      if (fill.style.width !== width) fill.style.width = width;
      bar.setAttribute("aria-valuenow", String(Math.round(percent)));
      setText(pct, status === "completed" ? "100%" : formatPercent(fraction));
      setText(eta, etaText(snap));
      setText(backend, executorText(snap) || "–");
      backend.title = executorText(snap);
      setText(kernel, snap.kernel_id || "–");
      kernel.title = snap.kernel_id || "";
      const cancellable = canCancel(snap);
      box.disabled = !cancellable;
      if (!cancellable) selected.delete(id);
      box.checked = selected.has(id);
      row.tick();
      row.card?.update(snap);
      if (!ACTIVE_STATUSES.has(status)) row.card?.setNote("");
    };
    row.tick = () => {
      const snap = row.snapshot;
      if (!snap) return;
      let value = snap.elapsed_s;
      if (snap.status === "running" && typeof value === "number") value += (now() - row.receivedAt) / 1000;
      setText(elapsed, typeof value === "number" ? formatDuration(value) : "–");
    };
    return row;
  }

  function toggle(id) {
    const open = expanded === id;
    if (expanded !== null) collapse(expanded);
    if (!open) expand(id);
  }

  function expand(id) {
    const row = rows.get(id);
    if (!row) return;
    row.card = createJobRow((action, jobId, r) => onAction?.(action, jobId, r));
    row.card.el.classList.add("qmon-job-detail");
    row.detail = h("tr", { class: "qmon-detail" }, h("td", { colspan: String(columns.length + 1) }, row.card.el));
    row.card.update(row.snapshot);
    row.tr.after(row.detail);
    row.tr.setAttribute("aria-expanded", "true");
    expanded = id;
  }

  function collapse(id) {
    const row = rows.get(id);
    expanded = null;
    if (!row) return;
    row.detail?.remove();
    row.detail = null;
    row.card = null;
    row.tr.setAttribute("aria-expanded", "false");
  }

  function renderSelection() {
    const count = selected.size;
    bulk.disabled = count === 0;
    setText(bulk, count ? `Cancel selected (${count})` : "Cancel selected");
    const boxes = [...rows.values()].filter((r) => !r.box.disabled);
    selectAll.checked = boxes.length > 0 && boxes.every((r) => selected.has(r.id));
    selectAll.indeterminate = !selectAll.checked && boxes.some((r) => selected.has(r.id));
    selectAll.disabled = boxes.length === 0;
  }

  function renderHeads() {
    for (const c of columns) {
      if (!c.sort) continue;
      const state = page.sort === c.sort ? "ascending" : page.sort === `-${c.sort}` ? "descending" : "none";
      heads[c.key].setAttribute("aria-sort", state);
    }
  }

  function update(jobs, pageInfo = {}) {
    page = { ...page, ...pageInfo };
    const ids = new Set();
    let at = tbody.firstChild;
    for (const snap of jobs) {
      const id = String(snap.id);
      ids.add(id);
      let row = rows.get(id);
      if (!row) {
        row = createRow(id);
        rows.set(id, row);
      }
      row.render(snap);
      // Rows in the host's order, each followed by its open card.
      if (at !== row.tr) tbody.insertBefore(row.tr, at);
      at = row.tr.nextSibling;
      if (row.detail) {
        if (at !== row.detail) tbody.insertBefore(row.detail, at);
        at = row.detail.nextSibling;
      }
    }
    for (const [id, row] of rows) {
      if (ids.has(id)) continue;
      if (expanded === id) collapse(id);
      row.tr.remove();
      rows.delete(id);
    }
    shownCount = jobs.length;
    setText(info, pageText(page.offset, shownCount, page.matching));
    prev.disabled = page.offset <= 0;
    next.disabled = page.offset + shownCount >= page.matching;
    // Another view may have changed the search; never overwrite what is being typed.
    const typing = searchTimer !== null || search.ownerDocument.activeElement === search;
    if (!typing && search.value !== (page.q || "")) search.value = page.q || "";
    renderHeads();
    renderSelection();
  }

  search.addEventListener("input", () => {
    if (searchTimer !== null) timers.clearTimeout(searchTimer);
    searchTimer = timers.setTimeout(() => {
      searchTimer = null;
      onView?.({ q: search.value, offset: 0 });
    }, searchDelayMs);
  });
  selectAll.addEventListener("change", () => {
    for (const row of rows.values()) {
      if (row.box.disabled) continue;
      if (selectAll.checked) selected.add(row.id);
      else selected.delete(row.id);
      row.box.checked = selectAll.checked;
    }
    renderSelection();
  });
  prev.addEventListener("click", () => onView?.({ offset: Math.max(0, page.offset - page.limit) }));
  // The host may have cut a page short (the update budget): go on from what was shown.
  next.addEventListener("click", () => onView?.({ offset: page.offset + Math.max(1, shownCount) }));
  bulk.addEventListener("click", async () => {
    const ids = [...selected];
    if (!ids.length || !onBulkCancel) return;
    bulk.disabled = true;
    selected.clear();
    for (const row of rows.values()) row.box.checked = false;
    const text = await onBulkCancel(ids);
    setText(note, text || "");
    renderSelection();
  });

  return {
    el,
    update,
    tick() {
      for (const row of rows.values()) row.tick();
      rows.get(expanded)?.card?.tick();
    },
    setNote(text) {
      setText(note, text);
    },
    get selected() {
      return new Set(selected);
    },
    show(on) {
      toggleAttr(el, "hidden", !on);
    },
    destroy() {
      if (searchTimer !== null) timers.clearTimeout(searchTimer);
      searchTimer = null;
      el.remove();
      rows.clear();
    },
  };
}

/** Add the table's rules to the document's qmon stylesheet once. */
export function ensureTableStyles(el) {
  ensureStylesheet(el, "qmon-table-styles", TABLE_CSS);
}
