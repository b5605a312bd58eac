"""Run a command while other processes keep every core busy; exit with its status.

    python scripts/with_load.py [--workers N] -- COMMAND ...

Starts N busy processes (default: one per core), each a bounded pure-Python loop that
ends by itself after --limit seconds (default 3600) in case this script is killed, runs
COMMAND, then stops them. `make nbval-loaded` uses it: a learner's laptop or a CI runner is
rarely quiet, and a chapter's timing claims must hold there too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

SPIN = "import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--limit", type=float, default=3600.0, help="seconds a worker lives")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("expected a command after --")
    workers = [
        subprocess.Popen([sys.executable, "-c", SPIN.format(limit=args.limit)])
        for _ in range(args.workers)
    ]
    print(f"with_load: {len(workers)} busy processes beside: {' '.join(command)}", flush=True)
    try:
        return subprocess.call(command)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
