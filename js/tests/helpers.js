// Test helpers: a jsdom document installed as the global one, a fake
// anywidget model, and timers the tests advance by hand.
import { JSDOM } from "jsdom";

export function installDom(html = "<!doctype html><html><head></head><body></body></html>", url = "http://127.0.0.1:8888/lab") {
  const dom = new JSDOM(html, { url });
  globalThis.window = dom.window;
  globalThis.document = dom.window.document;
  return dom;
}

export class FakeModel {
  constructor(state = {}) {
    this.state = { ...state };
    this.listeners = new Map();
    this.sent = [];
    this.saved = 0;
  }

  get(key) {
    return this.state[key];
  }

  set(key, value) {
    this.state[key] = value;
    this.emit(`change:${key}`);
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

  save_changes() {
    this.saved += 1;
  }

  send(content) {
    this.sent.push(content);
  }

  listenerCount() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

export class FakeTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    this.tasks = new Map();
  }

  setTimeout(fn, ms) {
    const id = this.nextId++;
    this.tasks.set(id, { fn, at: this.now + ms, every: null });
    return id;
  }

  setInterval(fn, ms) {
    const id = this.nextId++;
    this.tasks.set(id, { fn, at: this.now + ms, every: ms });
    return id;
  }

  clearTimeout(id) {
    this.tasks.delete(id);
  }

  clearInterval(id) {
    this.tasks.delete(id);
  }

  advance(ms) {
    const end = this.now + ms;
    for (let guard = 0; guard < 100000; guard++) {
      let next = null;
      for (const [id, t] of this.tasks) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      const [id, t] = next;
      this.now = t.at;
      if (t.every) t.at += t.every;
      else this.tasks.delete(id);
      t.fn();
    }
    this.now = end;
  }

  get pending() {
    return this.tasks.size;
  }
}

export function snapshot(overrides = {}) {
  return {
    schema: 1,
    id: "a1b2c3d4e5f6",
    name: "bell",
    type: "simulation",
    status: "running",
    progress: 0.42,
    done: 430,
    total: 1024,
    unit: "shots",
    stage: "sampling",
    message: "",
    rate: 2150,
    eta_s: 0.3,
    queue_position: null,
    backend: "local",
    executor: "local",
    owner: "me",
    kernel_id: "k1",
    created_at: "2026-11-29T08:00:00Z",
    started_at: "2026-11-29T08:00:01Z",
    finished_at: null,
    elapsed_s: 1.2,
    error: null,
    result_summary: null,
    capabilities: { cancel: true, pause: true, queue_position: true, eta: true },
    provider: null,
    seed: 7,
    updated_at: "2026-11-29T08:00:02Z",
    ...overrides,
  };
}

/** A fetch that records calls and answers from `responder(url, init)` -> {status, body}. */
export function fakeFetch(responder) {
  const calls = [];
  const fn = async (url, init = {}) => {
    calls.push({ url, init });
    const { status = 200, body = {} } = (await responder(url, init)) || {};
    return {
      status,
      ok: status >= 200 && status < 300,
      json: async () => body,
    };
  };
  fn.calls = calls;
  return fn;
}
