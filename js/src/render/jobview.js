// The job widget: one job's status, progress, ETA and cancel button; a
// histogram of the top outcomes when it completes; the error when it fails.

import { sendAction } from "./actions.js";
import { renderHistogram } from "./charts.js";
import { watchConnection } from "./connection.js";
import { h, setText, toggleAttr } from "./dom.js";
import { ACTIVE_STATUSES, createJobRow } from "./jobrow.js";
import { ensureStyles } from "./styles.js";

export function renderJob({ model, el, options = {} }) {
  ensureStyles(el);
  const timers = options.timers || globalThis;
  const row = createJobRow(async (action, jobId, r) => {
    const result = await sendAction(model, { action, job_id: jobId }, options);
    r.setNote(result.message || "");
  }, { className: "qmon-jobview-row", showMeta: true });
  const conn = h("span", { class: "qmon-conn" }, "live");
  const histogram = h("div", { class: "qmon-result" });
  const root = h("div", { class: "qmon-root qmon-jobview" }, row.el, histogram);
  // qmon.progress shows a loop as one line, like tqdm.notebook
  const setCompact = () => root.classList.toggle("qmon-compact", Boolean(model.get("compact")));
  setCompact();
  row.el.querySelector(".qmon-job-head").appendChild(conn);
  el.appendChild(root);
  let drawnFor = null;

  function render() {
    const snapshot = model.get("job") || {};
    if (!snapshot.id) {
      row.update({ id: "", name: "waiting for the job…", status: "pending" });
      return;
    }
    row.update(snapshot);
    root.dataset.status = snapshot.status;
    root.dataset.jobId = snapshot.id;
    const summary = snapshot.result_summary;
    const key = snapshot.status === "completed" && summary ? JSON.stringify(summary.top || []) : null;
    if (key !== drawnFor) {
      drawnFor = key;
      if (key) renderHistogram(histogram, summary.top, { shots: summary.shots, registers: summary.registers });
      else renderHistogram(histogram, []);
    }
    if (!ACTIVE_STATUSES.has(snapshot.status)) {
      row.setNote("");
    }
  }

  const onCustom = (msg) => {
    if (msg && msg.type === "action_result" && msg.ok === false) row.setNote(msg.message || "The action failed.");
  };
  model.on("change:job", render);
  model.on("change:compact", setCompact);
  const ticker = timers.setInterval(() => row.tick(), 1000);
  model.on("msg:custom", onCustom);
  const connection = watchConnection(
    model,
    (state) => {
      // A finished job's widget no longer hears from the kernel, and needs not.
      const active = ACTIVE_STATUSES.has((model.get("job") || {}).status);
      const shown = state === "disconnected" && active ? "disconnected" : "live";
      root.dataset.connection = shown;
      setText(conn, shown);
      conn.title = shown === "live" ? "" : "No word from the kernel for a while: it may have restarted.";
      toggleAttr(conn, "hidden", shown === "live");
    },
    { staleAfterMs: options.staleAfterMs, timers },
  );
  render();
  return () => {
    model.off("change:job", render);
    model.off("change:compact", setCompact);
    model.off("msg:custom", onCustom);
    connection.stop();
    timers.clearInterval(ticker);
    root.remove();
  };
}
