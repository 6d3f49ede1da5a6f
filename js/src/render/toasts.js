// Notifications as toasts: a new one pops up over the view (it never pushes the
// list down), can be dismissed, and goes away by itself after a few seconds (its
// ttl_s if shorter). At most five are on screen. What was there before the view
// opened is history, not news: it is never replayed. A job's notification is not
// shown when that job's row is on screen already (`onScreen(jobId)`).

import { h } from "./dom.js";

const MAX_VISIBLE = 5;
const DEFAULT_TTL_S = 8;
const ERROR_TOAST_S = 30;
export function createToasts(onDismiss, { timers = globalThis, onScreen = () => false } = {}) {
  const el = h("div", { class: "qmon-toasts", "aria-live": "polite" });
  const seen = new Set();
  const visible = new Map(); // id -> {node, timer}
  let first = true;

  function remove(id) {
    const entry = visible.get(id);
    if (!entry) return;
    timers.clearTimeout(entry.timer);
    entry.node.remove();
    visible.delete(id);
  }

  function show(n) {
    const id = String(n.id);
    // A toast is brief; the notification itself lives on (its ttl_s may be minutes).
    const onScreen = n.level === "error" ? ERROR_TOAST_S : DEFAULT_TTL_S;
    const ttl = typeof n.ttl_s === "number" && n.ttl_s > 0 ? Math.min(n.ttl_s, onScreen) : onScreen;
    const close = h("button", {
      type: "button",
      class: "qmon-toast-dismiss",
      title: "Dismiss",
      "aria-label": "Dismiss notification",
      onclick: () => {
        remove(id);
        onDismiss(id);
      },
    }, "×");
    const node = h(
      "div",
      { class: "qmon-toast", role: "status", "data-level": n.level || "info", "data-notification-id": id },
      h("div", { class: "qmon-toast-body" }, n.title ? h("div", { class: "qmon-toast-title" }, n.title) : null, n.message ? h("div", { class: "qmon-toast-text" }, n.message) : null),
      close,
    );
    el.insertBefore(node, el.firstChild);
    const timer = timers.setTimeout(() => remove(id), ttl * 1000);
    visible.set(id, { node, timer });
    while (visible.size > MAX_VISIBLE) remove(visible.keys().next().value);
  }

  function update(notifications) {
    const list = Array.isArray(notifications) ? notifications : [];
    const live = new Set(list.filter((n) => n && !n.dismissed).map((n) => String(n.id)));
    for (const id of [...visible.keys()]) if (!live.has(id)) remove(id);
    const fresh = list.filter((n) => n && n.id !== undefined && !seen.has(String(n.id)));
    for (const n of fresh) seen.add(String(n.id));
    if (first) {
      first = false;
      return;
    }
    for (const n of fresh) {
      if (!n.dismissed && !(n.job_id && onScreen(String(n.job_id)))) show(n);
    }
  }

  function destroy() {
    for (const id of [...visible.keys()]) remove(id);
  }

  return { el, update, destroy, get count() { return visible.size; } };
}
