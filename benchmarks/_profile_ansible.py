"""ansible-playbook under cProfile, the forked workers included: ``python _profile_ansible.py <ansible-playbook args>``.

``python -m cProfile`` sees only the parent process, but a task's module call (templating its arguments, the action
plugin, building the payload, the WinRM connection) runs in a worker that ansible-playbook forks per host and task.
This wraps ``WorkerProcess._run`` so each worker profiles itself and writes ``worker-<pid>.prof``, and profiles the
parent into ``main-<pid>.prof``, both in ``$WINSEC_BENCH_PROFILE_DIR``. benchmarks/fleet_audit.py adds them up.
"""

from __future__ import annotations

import cProfile
import os
import sys
import time
import typing as t
from pathlib import Path

from ansible.executor.process import worker

PROFILE_DIR = Path(os.environ["WINSEC_BENCH_PROFILE_DIR"])
_original_run = worker.WorkerProcess._run


def _dump(profiler: cProfile.Profile, role: str) -> None:
    """Write now (a worker leaves with os._exit, never reaching interpreter exit), under a unique name, atomically."""
    target = PROFILE_DIR / f"{role}-{os.getpid()}-{time.monotonic_ns()}.prof"
    partial = target.with_suffix(".partial")
    profiler.dump_stats(str(partial))
    partial.rename(target)


def _profiled_run(self: t.Any) -> None:
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: waits on the network are not cost
    profiler.enable()
    try:
        _original_run(self)
    finally:
        profiler.disable()
        _dump(profiler, "worker")


worker.WorkerProcess._run = _profiled_run


def main() -> int:
    from ansible.cli.playbook import main as playbook_main

    sys.argv = ["ansible-playbook", *sys.argv[1:]]
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: waits on the network are not cost
    profiler.enable()
    try:
        return int(playbook_main() or 0)
    finally:
        profiler.disable()
        _dump(profiler, "main")


if __name__ == "__main__":
    sys.exit(main())
