// One job: badge, name, progress bar, figures and action buttons. Built once
// and updated in place, so a button under the mouse is never replaced between
// press and release by a 10 Hz update.

import { h, setText, toggleAttr } from "./dom.js";
import {
  formatDoneTotal,
  formatDuration,
  formatPercent,
  formatRate,
  shortName,
} from "./format.js";

import { createSessionPart, isSession, sessionDoneText } from "./session.js";
import { ACTIONS, ACTIVE_STATUSES } from "./vocabulary.js";

export { ACTIVE_STATUSES };

function field(label, key) {
  const value = h("span", { class: "qmon-field-value" });
  const el = h("span", { class: "qmon-field", "data-field": key }, h("span", { class: "qmon-field-label" }, label), value);
  return { el, value };
}

function capable(snapshot, name) {
  const caps = snapshot.capabilities;
  if (!caps || typeof caps !== "object") return true;
  return caps[name] !== false;
}

/** What a field shows when it does not apply: one mark, whatever the reason. */
export const NONE = "–";

export function queueText(snapshot) {
  if (!capable(snapshot, "queue_position")) return NONE;
  const q = snapshot.queue_position;
  if (q === null || q === undefined || q === "") return snapshot.status === "queued" ? "…" : NONE;
  return typeof q === "number" ? `#${q}` : String(q);
}

export function etaText(snapshot) {
  if (!capable(snapshot, "eta") || !ACTIVE_STATUSES.has(snapshot.status)) return NONE;
  if (snapshot.status === "paused") return "paused";
  const range = snapshot.provider?.eta_range_s;
  if (Array.isArray(range) && range.length === 2) {
    return `${formatDuration(range[0])} – ${formatDuration(range[1])}`;
  }
  return snapshot.eta_s === null || snapshot.eta_s === undefined ? "…" : formatDuration(snapshot.eta_s);
}

/**
 * Where the job runs: the executor's description when it has one
 * (`executor_info`, e.g. "dask · 2 workers"), else the backend's name.
 */
export function executorText(snapshot) {
  const info = snapshot.executor_info;
  if (info && typeof info === "object") {
    const name = String(info.name || snapshot.executor || snapshot.backend || "");
    const workers = info.workers;
    if (typeof workers === "number" && Number.isFinite(workers)) {
      return `${name} · ${workers} worker${workers === 1 ? "" : "s"}`;
    }
    if (name) return name;
  }
  return snapshot.backend ? String(snapshot.backend) : "";
}

function errorText(snapshot) {
  const err = snapshot.error;
  if (!err) return "";
  if (typeof err === "string") return err;
  const type = err.type ? `${err.type}: ` : "";
  return `${type}${err.message ?? ""}`;
}

/**
 * Create a job row. `onAction(action, jobId, row)` is called on a click.
 * Returns {el, update(snapshot), setNote(text)}.
 */
export function createJobRow(onAction, { className = "qmon-job", showMeta = true, now = () => Date.now() } = {}) {
  const badge = h("span", { class: "qmon-badge" });
  // a provider job whose kernel died: shown, not controllable, until qmon.reattach()
  const detached = h("span", {
    class: "qmon-detached",
    title: "Its kernel died; it runs on at its provider. qmon.reattach() in a kernel follows it again.",
    hidden: true,
  }, "detached");
  const name = h("span", { class: "qmon-job-name" });
  const meta = h("span", { class: "qmon-job-meta" });
  const fill = h("div", { class: "qmon-fill" });
  const bar = h("div", { class: "qmon-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, fill);
  const pct = h("span", { class: "qmon-pct" });
  const fields = {
    done: field("Done", "done"),
    rate: field("Rate", "rate"),
    eta: field("ETA", "eta"),
    elapsed: field("Elapsed", "elapsed"),
    queue: field("Queue", "queue"),
    stage: field("Stage", "stage"),
    message: field("Message", "message"),
  };
  const error = h("div", { class: "qmon-error" });
  const actions = h("div", { class: "qmon-actions" });
  const note = h("div", { class: "qmon-note" });
  const session = createSessionPart();
  const buttons = {};
  const naBadges = {};
  let current = null;
  let receivedAt = 0;
  for (const { name: action, capability } of ACTIONS) {
    const label = action[0].toUpperCase() + action.slice(1);
    const button = h("button", {
      type: "button",
      class: `qmon-btn qmon-${action}`,
      "data-action": action,
      onclick: () => {
        if (current) onAction(action, current.id, api);
      },
    }, label);
    buttons[action] = button;
    if (!naBadges[capability]) {
      naBadges[capability] = h("span", { class: "qmon-na", "data-capability": capability, title: `This backend cannot ${capability} jobs` }, `${capability} n/a`);
    }
  }
  const el = h(
    "div",
    { class: className },
    h("div", { class: "qmon-job-head" }, badge, detached, name, showMeta ? meta : null, session.toggle),
    h("div", { class: "qmon-progress" }, bar, pct),
    h("div", { class: "qmon-fields" }, Object.values(fields).map((f) => f.el)),
    error,
    actions,
    session.list,
    note,
  );

  function renderActions(snapshot) {
    const wanted = [];
    for (const { name: action, capability, from: statuses } of ACTIONS) {
      if (!capable(snapshot, capability)) {
        if (!wanted.includes(naBadges[capability])) wanted.push(naBadges[capability]);
        continue;
      }
      const button = buttons[action];
      if (action === "resume" && snapshot.status !== "paused") continue;
      if (action === "pause" && snapshot.status === "paused") continue;
      button.disabled = !statuses.has(snapshot.status);
      wanted.push(button);
    }
    // no kernel follows a detached job: its actions would be refused (409)
    const ended = !ACTIVE_STATUSES.has(snapshot.status) || snapshot.detached === true;
    const list = ended ? [] : wanted;
    const same = list.length === actions.childNodes.length && list.every((n, i) => actions.childNodes[i] === n);
    if (!same) {
      for (const child of [...actions.childNodes]) if (!list.includes(child)) actions.removeChild(child);
      list.forEach((node, i) => {
        if (actions.childNodes[i] !== node) actions.insertBefore(node, actions.childNodes[i] || null);
      });
    }
    toggleAttr(actions, "hidden", ended);
  }

  // A running job may say nothing for a while (no progress to report): its
  // elapsed time still moves, counted here from when its snapshot arrived.
  function renderElapsed() {
    if (!current) return;
    let elapsed = current.elapsed_s;
    if (current.status === "running" && typeof elapsed === "number") elapsed += (now() - receivedAt) / 1000;
    setText(fields.elapsed.value, formatDuration(elapsed));
  }

  function update(snapshot) {
    current = snapshot;
    const status = String(snapshot.status || "pending");
    el.dataset.jobId = snapshot.id ?? "";
    el.dataset.status = status;
    badge.dataset.status = status;
    setText(badge, status);
    const isDetached = snapshot.detached === true && ACTIVE_STATUSES.has(status);
    el.dataset.detached = isDetached ? "true" : "false";
    toggleAttr(detached, "hidden", !isDetached);
    const fullName = String(snapshot.name || snapshot.id || "job");
    setText(name, shortName(fullName));
    name.title = snapshot.id ? `${fullName}\njob ${snapshot.id}` : fullName;
    setText(meta, [snapshot.type, executorText(snapshot), snapshot.id].filter(Boolean).join(" · "));
    meta.title = snapshot.executor_info?.address ? `executor at ${snapshot.executor_info.address}` : "";
    const fraction = typeof snapshot.progress === "number" ? Math.max(0, Math.min(1, snapshot.progress)) : 0;
    const percent = status === "completed" ? 100 : fraction * 100;
    const width = `${percent.toFixed(1)}%`;
    if (fill.style.width !== width) fill.style.width = width;
    bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    setText(pct, status === "completed" ? "100%" : formatPercent(fraction));
    const doneText = isSession(snapshot) ? sessionDoneText(snapshot) : formatDoneTotal(snapshot.done, snapshot.total, snapshot.unit);
    setText(fields.done.value, doneText);
    const rate = typeof snapshot.rate === "number" ? formatRate(snapshot.rate, snapshot.unit) : "…";
    setText(fields.rate.value, status === "running" ? rate : NONE);
    setText(fields.eta.value, etaText(snapshot));
    receivedAt = now();
    renderElapsed();
    setText(fields.queue.value, queueText(snapshot));
    // a finished job's last stage ("optimising") no longer says what it does
    const stage = ACTIVE_STATUSES.has(status) ? snapshot.stage : null;
    setText(fields.stage.value, stage || NONE);
    setText(fields.message.value, snapshot.message || "");
    toggleAttr(fields.message.el, "hidden", !snapshot.message);
    toggleAttr(fields.stage.el, "hidden", !stage);
    const err = errorText(snapshot);
    setText(error, err);
    toggleAttr(error, "hidden", !err);
    renderActions(snapshot);
    session.update(snapshot);
  }

  const api = {
    el,
    update,
    tick: renderElapsed,
    setNote(text) {
      setText(note, text);
    },
    get snapshot() {
      return current;
    },
  };
  return api;
}
