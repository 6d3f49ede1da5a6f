"""Run a benchmark script on this tree and on an earlier commit, interleaved, in one run.

    python bench/against.py --rounds 2 bb93981 -- bench/overhead.py --processes 3
    python bench/against.py HEAD~1 -- bench/rest.py --jobs 10000

The earlier commit is checked out into a temporary worktree (the built
front end is copied in); each round runs the script once per tree, the
trees in alternating order, with ``PYTHONPATH`` pointing at that tree (the
script's own subprocesses inherit it). Both outputs are printed, labelled,
so that the tables can be read side by side: a regression shows as the same
measure moving the same way in every round.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the earlier commit")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("script", nargs=argparse.REMAINDER, help="-- script.py [args]")
    args = parser.parse_args()
    script = [a for a in args.script if a != "--"]
    if not script:
        parser.error("name the benchmark script after --")
    with tempfile.TemporaryDirectory(prefix="qmon-against-") as tmp:
        old = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.rev],
            check=True,
            capture_output=True,
        )
        try:
            shutil.copytree(ROOT / "qmon_jupyter" / "static", old / "qmon_jupyter" / "static")
            trees = {args.rev: old, "this tree": ROOT}
            for round_ in range(args.rounds):
                order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
                for label, tree in order:
                    env = {**os.environ, "PYTHONPATH": str(tree)}
                    print(f"\n## round {round_ + 1}: {label}", flush=True)
                    # the script of this tree, run against the tree's package
                    argv = [sys.executable, str(ROOT / script[0]), *script[1:]]
                    subprocess.run(argv, cwd=tree, env=env, check=False)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                check=False,
                capture_output=True,
            )


if __name__ == "__main__":
    main()
