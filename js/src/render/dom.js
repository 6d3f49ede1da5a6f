// Tiny DOM helpers. Every piece of user-supplied text goes through
// createTextNode/textContent here: nothing in js/ assigns innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
    return;
  }
  if (typeof child === "string" || typeof child === "number") {
    parent.appendChild(parent.ownerDocument.createTextNode(String(child)));
    return;
  }
  parent.appendChild(child);
}

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  return el;
}

/** Create an HTML element: h("div", {class: "x"}, "text", child, ...). */
export function h(tag, attrs, ...children) {
  const el = applyAttrs(document.createElement(tag), attrs);
  append(el, children);
  return el;
}

/** Create an SVG element the same way. */
export function s(tag, attrs, ...children) {
  const el = applyAttrs(document.createElementNS(SVG_NS, tag), attrs);
  append(el, children);
  return el;
}

/** Set an element's text only when it changed (keeps selections and avoids layout churn). */
export function setText(el, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** Remove every child of an element. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Toggle an attribute: present with `value` when `on`, absent otherwise. */
export function toggleAttr(el, name, on, value = "") {
  if (on) {
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  } else if (el.hasAttribute(name)) el.removeAttribute(name);
}
