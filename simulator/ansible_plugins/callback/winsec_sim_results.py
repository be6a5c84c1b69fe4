# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every task result as one JSON line, for the simulator's end-to-end tests.

ansible-core has no JSON stdout callback of its own (``json`` lives in ansible.posix, not installed here), so the
e2e fixture enables this aggregate callback (``ANSIBLE_CALLBACKS_ENABLED``) and keeps the default stdout for humans.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: winsec_sim_results
type: aggregate
short_description: write task results as JSON lines (simulator e2e tests)
description:
  - Writes one JSON object per host and task to the file named by the environment variable
    E(WINSEC_SIM_RESULTS).
requirements:
  - enable in ANSIBLE_CALLBACKS_ENABLED
"""


_GATHER_FACTS = frozenset({"gather_facts", "ansible.builtin.gather_facts", "ansible.legacy.gather_facts"})


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "winsec_sim_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("WINSEC_SIM_RESULTS")
        self._task_index: dict[str, int] = {}

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        # The implicit fact-gathering task (play_iterator adds it) is not part of the play's task list.
        if task.get_name() == "Gathering Facts" and task.action in _GATHER_FACTS:
            return
        self._task_index.setdefault(task._uuid, len(self._task_index))

    def _write(self, status: str, result: Any) -> None:
        if not self._path:
            return
        task = result._task
        record = {
            "status": status,
            "host": result._host.get_name(),
            "task": task.get_name(),
            "action": task.action,
            "index": self._task_index.get(task._uuid, -1),
            "result": result._result,
        }
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result: Any) -> None:
        self._write("ok", result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._write("failed", result)

    def v2_runner_on_skipped(self, result: Any) -> None:
        self._write("skipped", result)

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._write("unreachable", result)
