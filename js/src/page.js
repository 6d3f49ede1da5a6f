// The /qmon/ full-page dashboard: the notebook's renderer fed by REST + SSE.
// The page served by the server extension loads this module
// (<script type="module">) and gives it <body data-base-url="...">; the
// `_xsrf` cookie the server sets is sent back on every POST.

import { renderDashboard } from "./render/dashboard.js";
import { RestModel } from "./render/rest_model.js";

export { RestModel, renderDashboard };

/** Mount the dashboard into `el` (default: #qmon-app or <body>). Returns a cleanup function. */
export function mount(el, options = {}) {
  const target = el || document.getElementById("qmon-app") || document.body;
  target.classList.add("qmon-standalone");
  const model = new RestModel(options);
  const cleanup = renderDashboard({ model, el: target, options });
  model.start();
  return () => {
    model.stop();
    cleanup();
  };
}

if (typeof document !== "undefined" && !document.documentElement.hasAttribute("data-qmon-no-automount")) {
  const go = () => mount();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go, { once: true });
  else go();
}
