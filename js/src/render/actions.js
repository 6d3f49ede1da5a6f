// How a click becomes an action on a job.
//
// A comm message from the front end waits behind whatever cell the kernel is
// running, so the widget first asks the Jupyter server's qmon extension
// (POST {base}api/qmon/jobs/{id}/cancel): the server writes a command to the
// store and the kernel's store thread carries it out at once. Without the
// extension (VS Code, Colab, Notebook without qmon's server part) the action
// travels over the widget's comm and the user is told it may wait.

import { ACTIONS } from "./vocabulary.js";

const JOB_ACTIONS = new Set(ACTIONS.map((a) => a.name));

/** The Jupyter server's base URL as seen by this page ("/" outside Jupyter). */
export function baseUrl(doc = globalThis.document) {
  let base = doc?.body?.dataset?.baseUrl;
  if (!base) {
    const cfg = readPageConfig(doc);
    base = cfg.baseUrl;
  }
  base = base || "/";
  return base.endsWith("/") ? base : `${base}/`;
}

function readPageConfig(doc) {
  try {
    const node = doc?.getElementById?.("jupyter-config-data");
    return node ? JSON.parse(node.textContent || "{}") : {};
  } catch {
    return {};
  }
}

/** The `_xsrf` cookie Jupyter sets, or "". */
export function xsrfToken(doc = globalThis.document) {
  const cookies = String(doc?.cookie || "").split(";");
  for (const c of cookies) {
    const [k, ...rest] = c.trim().split("=");
    if (k === "_xsrf") return decodeURIComponent(rest.join("="));
  }
  return "";
}

/** The API token header when the page has one (cookies authenticate otherwise). */
export function authHeaders(doc = globalThis.document) {
  const token = readPageConfig(doc).token;
  return token ? { Authorization: `token ${token}` } : {};
}

/** Headers for a POST to the Jupyter server (XSRF cookie, and the API token if the page has one). */
export function postHeaders(doc = globalThis.document) {
  const headers = { "Content-Type": "application/json", ...authHeaders(doc) };
  const xsrf = xsrfToken(doc);
  if (xsrf) headers["X-XSRFToken"] = xsrf;
  return headers;
}

/** REST path for an action, or null when it has none. */
export function actionPath(payload) {
  if (JOB_ACTIONS.has(payload.action) && payload.job_id) {
    return `api/qmon/jobs/${encodeURIComponent(payload.job_id)}/${payload.action}`;
  }
  if (payload.action === "dismiss" && payload.notification_id) {
    return `api/qmon/notifications/${encodeURIComponent(payload.notification_id)}/dismiss`;
  }
  return null;
}

async function readMessage(response) {
  try {
    const body = await response.json();
    return body?.message || body?.reason || body?.error || "";
  } catch {
    return "";
  }
}

/**
 * POST an action to the server extension.
 * Resolves {ok, status, message, snapshot} or {unreachable: true} when the
 * server has no qmon extension (or the job is not in its store yet).
 */
export async function postAction(payload, { fetchImpl = globalThis.fetch, doc = globalThis.document, timeoutMs = 4000 } = {}) {
  const path = actionPath(payload);
  if (!path || typeof fetchImpl !== "function") return { unreachable: true };
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
  try {
    const response = await fetchImpl(`${baseUrl(doc)}${path}`, {
      method: "POST",
      headers: postHeaders(doc),
      credentials: "same-origin",
      body: "{}",
      signal: controller?.signal,
    });
    if (response.status >= 200 && response.status < 300) {
      let snapshot = null;
      try {
        snapshot = await response.json();
      } catch {
        snapshot = null;
      }
      return { ok: true, status: response.status, snapshot };
    }
    if (response.status === 409) {
      return { ok: false, status: 409, message: (await readMessage(response)) || "not allowed in the job's current state" };
    }
    // 404 (no extension, or the store has not seen this job yet), 403, 5xx: use the comm.
    return { unreachable: true, status: response.status };
  } catch {
    return { unreachable: true };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export const COMM_NOTE =
  "Sent over the kernel connection: without qmon's server extension it takes effect when the running cell finishes.";

/**
 * Carry out an action from a view: {action, job_id} or {action: "dismiss", notification_id}.
 * Resolves {via: "rest"|"comm"|"model", ok, message}.
 */
export async function sendAction(model, payload, options = {}) {
  if (model.qmonRest) {
    // The /qmon/ page's model speaks REST itself.
    const result = await model.send(payload);
    return { via: "model", ok: result?.ok !== false, message: result?.message || "" };
  }
  const rest = await postAction(payload, options);
  if (!rest.unreachable) {
    return { via: "rest", ok: rest.ok, message: rest.ok ? "" : `Could not ${payload.action}: ${rest.message}` };
  }
  model.send(payload);
  return { via: "comm", ok: true, message: COMM_NOTE };
}
