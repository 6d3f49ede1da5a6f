// The statuses, types, actions, dashboard order and sortable columns of qmon_jupyter.core, as
// generated at build time (js/scripts/vocabulary.mjs): never typed out in JS.

import vocabulary from "../generated/vocabulary.js";

export const STATUSES = vocabulary.statuses;
export const TYPES = vocabulary.types;
export const ACTIVE_STATUSES = new Set(vocabulary.active);
/** The most characters of a job's name any view shows (qmon_jupyter.core.text.NAME_MAX). */
export const NAME_MAX = vocabulary.name_max;
/** [{name, capability, from: Set of the statuses where it changes something}] */
export const ACTIONS = vocabulary.actions.map((a) => ({ ...a, from: new Set(a.from) }));

/** The columns the table may sort by (qmon_jupyter/core/columns.py): "name", or "-name" descending. */
export const SORT_COLUMNS = vocabulary.sort_columns;
/** The sort that is the dashboard's own order (REST's GET jobs?sort=). */
export const DASHBOARD_SORT = vocabulary.dashboard_sort;

const RANK = vocabulary.active_rank;
/** Every status, in the dashboard's order: active ones by rank, then finished ones. */
export const STATUS_ORDER = [...vocabulary.active].sort((a, b) => RANK[a] - RANK[b]).concat(vocabulary.terminal);

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

function position(job) {
  const q = job.queue_position;
  return typeof q === "number" && Number.isFinite(q) ? [0, q] : [1, 0];
}

/**
 * The dashboard's order (qmon_jupyter/core/order.py): active jobs first, by
 * status rank, numeric queue position, then oldest; then the latest finished.
 * Ties go by id.
 */
export function compareJobs(a, b) {
  const aa = ACTIVE_STATUSES.has(a.status);
  const ba = ACTIVE_STATUSES.has(b.status);
  if (aa !== ba) return aa ? -1 : 1;
  if (aa) {
    const [pa, qa] = position(a);
    const [pb, qb] = position(b);
    return RANK[a.status] - RANK[b.status] || pa - pb || qa - qb || cmp(String(a.created_at || ""), String(b.created_at || "")) || cmp(String(a.id), String(b.id));
  }
  return cmp(String(b.finished_at || ""), String(a.finished_at || "")) || cmp(String(b.id), String(a.id));
}

export function sortJobs(jobs) {
  return [...jobs].sort(compareJobs);
}
