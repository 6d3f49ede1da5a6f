// A model with the anywidget interface (get/set/on/off/save_changes/send),
// fed by the qmon REST API and its Server-Sent Events instead of a comm, so the
// /qmon/ page mounts the very renderer the notebook widget uses.

import { baseUrl, postAction } from "./actions.js";
import { ACTIVE_STATUSES, compareJobs } from "./vocabulary.js";

/** A session's row carries this many of its jobs (qmon_jupyter/widget/_compact.py). */
const MAX_CHILDREN = 6;

const EVENT_KINDS = [
  "job.created",
  "job.status",
  "job.progress",
  "job.removed",
  "notification.created",
  "notification.dismissed",
];

function asList(value, key) {
  if (Array.isArray(value)) return value;
  if (value && Array.isArray(value[key])) return value[key];
  return null;
}

/** Jobs from a GET dashboard answer: a list, {jobs: [...]}, or {active: [...], recent: [...]}. */
export function jobsFromState(state) {
  const jobs = state?.jobs;
  if (Array.isArray(jobs)) return jobs;
  if (jobs && typeof jobs === "object") {
    if (Array.isArray(jobs.jobs)) return jobs.jobs;
    return [...(jobs.active || []), ...(jobs.recent || [])];
  }
  return [];
}

export class RestModel {
  constructor({ base, fetchImpl, EventSourceImpl, doc, timers, refreshMs = 5000, recentLimit = 50 } = {}) {
    this.doc = doc || globalThis.document;
    this.base = base || baseUrl(this.doc);
    this.fetchImpl = fetchImpl || globalThis.fetch?.bind(globalThis);
    this.EventSourceImpl = EventSourceImpl === undefined ? globalThis.EventSource : EventSourceImpl;
    this.timers = timers || globalThis;
    this.refreshMs = refreshMs;
    this.recentLimit = recentLimit;
    this.qmonRest = true;
    this.exportUrl = `${this.base}api/qmon/export?format=json`;
    this.state = { jobs: [], counts: null, stats: null, resources: null, notifications: [], heartbeat: 0, filters: { status: "", type: "" }, stale_after_ms: refreshMs * 3 + 1000 };
    this.listeners = new Map();
    this.byId = new Map();
    this.source = null;
    this.interval = null;
  }

  get(key) {
    return this.state[key];
  }

  set(key, value) {
    this.state[key] = value;
    this.emit(`change:${key}`, value);
  }

  on(event, cb) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(cb);
  }

  off(event, cb) {
    this.listeners.get(event)?.delete(cb);
  }

  emit(event, value) {
    for (const cb of [...(this.listeners.get(event) || [])]) cb(value);
  }

  save_changes() {}

  /** Actions go straight to REST here; resolves {ok, message}. */
  async send(payload) {
    const result = await postAction(payload, { fetchImpl: this.fetchImpl, doc: this.doc });
    if (result.unreachable) return { ok: false, message: `The server did not accept the request${result.status ? ` (HTTP ${result.status})` : ""}.` };
    if (result.ok && result.snapshot && result.snapshot.id) this.upsert(result.snapshot);
    if (result.ok) this.publishJobs();
    return { ok: result.ok, message: result.ok ? "" : `Could not ${payload.action}: ${result.message}` };
  }

  beat() {
    this.set("heartbeat", (this.state.heartbeat || 0) + 1);
  }

  upsert(snapshot) {
    const old = this.byId.get(snapshot.id);
    if (old && old.updated_at && snapshot.updated_at && old.updated_at > snapshot.updated_at) return;
    this.byId.set(snapshot.id, snapshot);
  }

  publishJobs() {
    // A session's jobs (parent_id) are not rows: their session's row carries
    // the first few it has seen, as the widget's window does.
    const all = [...this.byId.values()];
    const top = all.filter((j) => !j.parent_id);
    const active = top.filter((j) => ACTIVE_STATUSES.has(j.status));
    const recent = top
      .filter((j) => !ACTIVE_STATUSES.has(j.status))
      .sort(compareJobs)
      .slice(0, this.recentLimit);
    const rows = [...active, ...recent];
    const shown = new Set(rows.map((j) => j.id));
    const children = new Map();
    for (const j of all.filter((c) => c.parent_id).sort(compareJobs)) {
      const list = children.get(j.parent_id) || [];
      if (shown.has(j.parent_id) && list.length < MAX_CHILDREN) {
        list.push(j);
        children.set(j.parent_id, list);
      } else this.byId.delete(j.id);
    }
    for (const j of top) if (!shown.has(j.id)) this.byId.delete(j.id);
    this.set("jobs", rows.map((j) => (children.has(j.id) ? { ...j, children: children.get(j.id) } : j)));
  }

  applyState(state) {
    if (!state || typeof state !== "object") return;
    this.byId.clear();
    for (const j of jobsFromState(state)) if (j && j.id) this.byId.set(j.id, j);
    this.publishJobs();
    const stats = state.stats ?? state.statistics ?? null;
    if (stats) this.set("stats", stats);
    const byStatus = stats?.by_status || null;
    const totals = [state.total_jobs, stats?.total, state.total].filter((n) => typeof n === "number");
    const total = totals.length ? totals[0] : null;
    this.set("counts", state.counts || { total: total ?? this.byId.size, by_status: byStatus || undefined });
    if (state.resources !== undefined) this.set("resources", state.resources);
    const notes = asList(state.notifications, "notifications");
    if (notes) this.set("notifications", notes);
    this.beat();
  }

  applyEvent(event) {
    if (!event || typeof event !== "object") return;
    const kind = String(event.kind || "");
    if (kind.startsWith("job.") && kind !== "job.checkpoint") {
      if (kind === "job.removed" && event.job_id) this.byId.delete(event.job_id);
      else if (event.snapshot && event.snapshot.id) this.upsert(event.snapshot);
      this.publishJobs();
    } else if (kind.startsWith("notification.") && event.notification) {
      const n = event.notification;
      const others = (this.state.notifications || []).filter((x) => x.id !== n.id);
      this.set("notifications", [...others, n]);
    }
    this.beat();
  }

  async refresh() {
    try {
      const response = await this.fetchImpl(`${this.base}api/qmon/dashboard`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return false;
      this.applyState(await response.json());
      return true;
    } catch {
      return false;
    }
  }

  openEvents() {
    if (typeof this.EventSourceImpl !== "function") return;
    const source = new this.EventSourceImpl(`${this.base}api/qmon/events`, { withCredentials: true });
    const handler = (msg) => {
      try {
        this.applyEvent(JSON.parse(msg.data));
      } catch {
        // A malformed event is skipped; the periodic refresh repairs the picture.
      }
    };
    source.onmessage = handler;
    for (const kind of EVENT_KINDS) source.addEventListener?.(kind, handler);
    source.onopen = () => this.beat();
    this.source = source;
  }

  async start() {
    await this.refresh();
    this.openEvents();
    this.interval = this.timers.setInterval(() => this.refresh(), this.refreshMs);
  }

  stop() {
    if (this.interval !== null) this.timers.clearInterval(this.interval);
    this.interval = null;
    this.source?.close?.();
    this.source = null;
  }
}
