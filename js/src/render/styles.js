// One stylesheet for every qmon view, injected once per document. Colours and
// fonts come from JupyterLab's theme variables, with fallbacks for pages
// outside JupyterLab (the /qmon/ page defines its own light/dark values).

/**
 * Badge backgrounds under white text, the same in every theme: each has at
 * least 4.5:1 contrast with white (WCAG AA; js/tests/styles.test.js checks).
 * Theme accents such as Lab's dark --jp-brand-color1 are too light for that.
 */
export const BADGE_BACKGROUNDS = {
  default: "#545b64",
  running: "#1565c0",
  completed: "#2e7d32",
  failed: "#c62828",
  cancelled: "#a04600",
  paused: "#00695c",
};

function badgeRules() {
  return Object.entries(BADGE_BACKGROUNDS)
    .filter(([status]) => status !== "default")
    .map(([status, color]) => `.qmon-badge[data-status="${status}"] { background: ${color}; }`)
    .join("\n");
}

const CSS = `
.qmon-root {
  --qmon-fg: var(--jp-ui-font-color1, #1f1f1f);
  --qmon-fg-dim: var(--jp-ui-font-color2, #5f6368);
  --qmon-bg: var(--jp-layout-color1, #ffffff);
  --qmon-bg-alt: var(--jp-layout-color2, #f2f3f5);
  --qmon-border: var(--jp-border-color2, #d9dce1);
  --qmon-accent: var(--jp-brand-color1, #1a73e8);
  --qmon-ok: var(--jp-success-color1, #2e7d32);
  --qmon-err: var(--jp-error-color1, #c62828);
  --qmon-warn: var(--jp-warn-color1, #ef6c00);
  --qmon-info: var(--jp-info-color1, #00838f);
  font-family: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: var(--jp-ui-font-size1, 13px);
  color: var(--qmon-fg);
  background: var(--qmon-bg);
  border: 1px solid var(--qmon-border);
  border-radius: 6px;
  padding: 8px 10px;
  position: relative;
  max-width: 100%;
  box-sizing: border-box;
}
.qmon-root * { box-sizing: border-box; }
.qmon-root button {
  font: inherit; color: var(--qmon-fg); background: var(--qmon-bg-alt);
  border: 1px solid var(--qmon-border); border-radius: 4px; padding: 1px 8px; cursor: pointer;
}
.qmon-root button:hover:not(:disabled) { border-color: var(--qmon-accent); }
.qmon-root button:disabled { opacity: 0.45; cursor: default; }
.qmon-root select { font: inherit; color: var(--qmon-fg); background: var(--qmon-bg); border: 1px solid var(--qmon-border); border-radius: 4px; }
.qmon-header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; margin-bottom: 6px; }
.qmon-title { font-weight: 600; font-size: 1.1em; }
.qmon-summary { color: var(--qmon-fg-dim); }
.qmon-spacer { flex: 1; }
.qmon-conn { font-size: 0.9em; padding: 0 6px; border-radius: 8px; color: var(--qmon-ok); border: 1px solid currentColor; }
.qmon-root[data-connection="disconnected"] .qmon-conn { color: var(--qmon-err); }
.qmon-root[data-connection="disconnected"] .qmon-body { opacity: 0.6; }
.qmon-resources { display: flex; gap: 16px; flex-wrap: wrap; margin: 4px 0 8px; }
.qmon-resource { display: flex; align-items: center; gap: 6px; color: var(--qmon-fg-dim); }
.qmon-resource svg { background: var(--qmon-bg-alt); border-radius: 3px; }
.qmon-spark { fill: none; stroke: var(--qmon-accent); stroke-width: 1.5; }
.qmon-toolbar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
.qmon-joblist { display: flex; flex-direction: column; gap: 6px; max-height: 560px; overflow-y: auto; }
.qmon-job { border: 1px solid var(--qmon-border); border-radius: 5px; padding: 6px 8px; background: var(--qmon-bg); }
.qmon-job-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; }
.qmon-job-name { font-weight: 600; word-break: break-all; }
.qmon-job-meta { color: var(--qmon-fg-dim); font-size: 0.9em; }
.qmon-badge { display: inline-block; min-width: 72px; text-align: center; border-radius: 9px; padding: 0 7px; font-size: 0.85em; color: #fff; background: ${BADGE_BACKGROUNDS.default}; }
${badgeRules()}
.qmon-progress { display: flex; align-items: center; gap: 8px; margin: 4px 0; }
.qmon-jobview.qmon-compact { padding: 2px 6px; }
.qmon-compact .qmon-jobview-row { display: flex; align-items: center; gap: 10px; }
.qmon-compact .qmon-job-head { flex-wrap: nowrap; min-width: 0; }
.qmon-compact .qmon-job-name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 32ch; }
.qmon-compact .qmon-job-meta, .qmon-compact .qmon-conn, .qmon-compact .qmon-result { display: none; }
.qmon-compact .qmon-progress { flex: 1 1 160px; margin: 0; }
.qmon-compact .qmon-fields { flex-wrap: nowrap; }
.qmon-compact .qmon-field:not([data-field="eta"]):not([data-field="elapsed"]):not([data-field="message"]) { display: none; }
.qmon-compact .qmon-field[data-field="message"] { max-width: 28ch; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.qmon-compact .qmon-note:empty { display: none; }
.qmon-bar { flex: 1; height: 8px; background: var(--qmon-bg-alt); border-radius: 4px; overflow: hidden; border: 1px solid var(--qmon-border); }
.qmon-fill { height: 100%; width: 0; background: var(--qmon-accent); transition: width 0.2s linear; }
.qmon-job[data-status="completed"] .qmon-fill, .qmon-jobview[data-status="completed"] .qmon-fill { background: var(--qmon-ok); }
.qmon-job[data-status="failed"] .qmon-fill, .qmon-jobview[data-status="failed"] .qmon-fill { background: var(--qmon-err); }
.qmon-job[data-status="cancelled"] .qmon-fill, .qmon-jobview[data-status="cancelled"] .qmon-fill { background: var(--qmon-warn); }
.qmon-pct { min-width: 3.5em; text-align: right; font-variant-numeric: tabular-nums; }
.qmon-fields { display: flex; flex-wrap: wrap; gap: 2px 14px; color: var(--qmon-fg-dim); font-size: 0.92em; }
.qmon-field-label { margin-right: 4px; }
.qmon-field-value { color: var(--qmon-fg); font-variant-numeric: tabular-nums; }
.qmon-error { color: var(--qmon-err); white-space: pre-wrap; font-family: var(--jp-code-font-family, monospace); font-size: 0.9em; margin: 4px 0 0; }
.qmon-actions { display: flex; gap: 6px; margin-top: 4px; align-items: center; }
.qmon-detached { color: var(--qmon-warn); font-size: 0.85em; border: 1px solid var(--qmon-warn); border-radius: 4px; padding: 0 6px; margin-left: 4px; }
.qmon-na { color: var(--qmon-fg-dim); font-size: 0.85em; border: 1px dashed var(--qmon-border); border-radius: 4px; padding: 0 6px; }
.qmon-note { color: var(--qmon-fg-dim); font-size: 0.9em; margin-top: 4px; }
.qmon-note:empty { display: none; }
.qmon-children { margin: 4px 0 0 16px; display: grid; gap: 2px; font-size: 0.9em; }
.qmon-child { display: flex; gap: 8px; align-items: baseline; }
.qmon-child-more { color: var(--qmon-fg-dim); }
.qmon-children[hidden], .qmon-expand[hidden] { display: none; }
.qmon-empty { padding: 12px; border: 1px dashed var(--qmon-border); border-radius: 5px; color: var(--qmon-fg-dim); }
.qmon-empty code { font-family: var(--jp-code-font-family, monospace); color: var(--qmon-fg); background: var(--qmon-bg-alt); padding: 0 3px; border-radius: 3px; }
.qmon-more { color: var(--qmon-fg-dim); margin-top: 4px; }
.qmon-stats { margin-top: 8px; }
.qmon-stats summary { cursor: pointer; font-weight: 600; }
.qmon-stats dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0 0; }
.qmon-stats dt { color: var(--qmon-fg-dim); white-space: nowrap; }
.qmon-stats dd { margin: 0; font-variant-numeric: tabular-nums; }
/* In the flow, above the jobs: a notebook output has no free corner to float in. */
.qmon-dashboard { position: relative; }
.qmon-toasts { position: absolute; top: 30px; right: 8px; z-index: 10; width: min(360px, calc(100% - 16px)); display: flex; flex-direction: column; gap: 4px; pointer-events: none; }
.qmon-toast { pointer-events: auto; box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25); }
.qmon-toasts:empty { display: none; }
.qmon-toast { background: var(--qmon-bg-alt); border: 1px solid var(--qmon-border); border-left: 4px solid var(--qmon-info); border-radius: 4px; padding: 3px 6px; display: flex; gap: 8px; align-items: baseline; }
.qmon-toast[data-level="success"] { border-left-color: var(--qmon-ok); }
.qmon-toast[data-level="warning"] { border-left-color: var(--qmon-warn); }
.qmon-toast[data-level="error"] { border-left-color: var(--qmon-err); }
.qmon-toast-title { font-weight: 600; display: inline; margin-right: 8px; }
.qmon-toast-text { display: inline; }
.qmon-toast-body { flex: 1; word-break: break-word; }
.qmon-toast button { padding: 0 5px; }
/* The /qmon/ page has no JupyterLab theme: follow the system's dark mode there. */
@media (prefers-color-scheme: dark) {
  .qmon-standalone .qmon-root {
    --qmon-fg: #e3e3e3; --qmon-fg-dim: #a8adb4; --qmon-bg: #161819; --qmon-bg-alt: #26292c;
    --qmon-border: #3a3f44; --qmon-accent: #64a8ff; --qmon-ok: #5cb85c; --qmon-err: #ff6b6b;
    --qmon-warn: #ffa94d; --qmon-info: #4dd0e1;
  }
}
.qmon-histogram text { fill: var(--qmon-fg); font-size: 11px; font-family: var(--jp-code-font-family, monospace); }
.qmon-histogram rect { fill: var(--qmon-accent); }
.qmon-histogram { max-width: 100%; height: auto; }
`;

const STYLE_ID = "qmon-styles";

/** Add a stylesheet with this id to the element's document once. */
export function ensureStylesheet(el, id, css) {
  const doc = el.ownerDocument || document;
  if (doc.getElementById(id)) return;
  const style = doc.createElement("style");
  style.id = id;
  style.textContent = css;
  (doc.head || doc.documentElement).appendChild(style);
}

/** Add the stylesheet to the element's document once. */
export function ensureStyles(el) {
  ensureStylesheet(el, STYLE_ID, CSS);
}
