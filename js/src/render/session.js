// A session's row (type "session"): "n / N done", and a toggle that shows a
// few of its jobs (the `children` its row carries: the widget's window, or
// the ones the page has seen). The children are text only, rebuilt on each
// update: they have no buttons that a redraw could pull from under the mouse.

import { clear, h, setText, toggleAttr } from "./dom.js";
import { formatCount, formatPercent } from "./format.js";

export function isSession(snapshot) {
  return snapshot?.type === "session";
}

/** "3 / 200 done" for a session's jobs ended of started. */
export function sessionDoneText(snapshot) {
  const done = typeof snapshot.done === "number" ? snapshot.done : 0;
  const total = typeof snapshot.total === "number" ? snapshot.total : done;
  return `${formatCount(done)} / ${formatCount(total)} done`;
}

/** Create the toggle and the list of children. Returns {toggle, list, update(snapshot)}. */
export function createSessionPart() {
  let open = false;
  let current = null;
  const list = h("div", { class: "qmon-children", hidden: true });
  const toggle = h("button", {
    type: "button",
    class: "qmon-btn qmon-expand",
    "aria-expanded": "false",
    hidden: true,
    onclick: () => {
      open = !open;
      if (current) update(current);
    },
  });

  function childLine(child) {
    const status = String(child.status || "pending");
    const progress = status === "completed" ? 1 : Number(child.progress) || 0;
    return h(
      "div",
      { class: "qmon-child", "data-job-id": child.id ?? "", "data-status": status },
      h("span", { class: "qmon-badge", "data-status": status }, status),
      h("span", { class: "qmon-job-name" }, child.name || child.id || "job"),
      h("span", { class: "qmon-pct" }, formatPercent(progress)),
    );
  }

  function update(snapshot) {
    current = snapshot;
    const session = isSession(snapshot);
    const children = Array.isArray(snapshot.children) ? snapshot.children : [];
    toggleAttr(toggle, "hidden", !session);
    toggle.setAttribute("aria-expanded", String(open && session));
    setText(toggle, `${open ? "▾" : "▸"} ${sessionDoneText(snapshot)}`);
    clear(list);
    if (session && open) {
      for (const child of children) list.appendChild(childLine(child));
      const more = (Number(snapshot.total) || 0) - children.length;
      if (more > 0) list.appendChild(h("div", { class: "qmon-child qmon-child-more" }, `… and ${formatCount(more)} more`));
    }
    toggleAttr(list, "hidden", !(session && open));
  }

  return { toggle, list, update };
}
