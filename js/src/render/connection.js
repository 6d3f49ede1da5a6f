// "Is the kernel still there?" The kernel ticks the `heartbeat` trait every
// couple of seconds; a view that hears nothing for `staleAfterMs` says it is
// disconnected (kernel restarted or died) instead of freezing silently.

export const DEFAULT_STALE_AFTER_MS = 6500;

export function watchConnection(model, onChange, { staleAfterMs, timers = globalThis, now = () => Date.now() } = {}) {
  const limit = staleAfterMs ?? model.get("stale_after_ms") ?? DEFAULT_STALE_AFTER_MS;
  let last = now();
  let state = null;
  const set = (next) => {
    if (next !== state) {
      state = next;
      onChange(next);
    }
  };
  const beat = () => {
    last = now();
    set("live");
  };
  const check = () => set(now() - last > limit ? "disconnected" : "live");
  model.on("change:heartbeat", beat);
  const interval = timers.setInterval(check, Math.min(1000, limit / 2));
  set("live");
  return {
    check,
    stop() {
      timers.clearInterval(interval);
      model.off("change:heartbeat", beat);
    },
  };
}
