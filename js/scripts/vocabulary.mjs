// Writes src/generated/vocabulary.js from qmon_jupyter.core (run before build
// and test): the statuses, types, actions and dashboard order are defined once,
// in Python. $PYTHON, else python3, else python runs the exporter.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = "js/src/generated/vocabulary.js";
const candidates = [process.env.PYTHON, "python3", "python"].filter(Boolean);
for (const python of candidates) {
  const run = spawnSync(python, ["-m", "qmon_jupyter.core.vocabulary", out], { cwd: root, stdio: "inherit" });
  if (run.status === 0) process.exit(0);
  if (!run.error) process.exit(run.status ?? 1); // Python ran and failed: say so
}
console.error(`no Python found (tried ${candidates.join(", ")}) to write ${out}`);
process.exit(1);
