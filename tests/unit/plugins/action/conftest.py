# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run winsec.wmi action plugins with a replayed winsec.wmi.wmi_state (ansible.windows test_win_updates pattern)."""

from __future__ import annotations

import copy
import typing as t
from unittest.mock import MagicMock

import pytest
from ansible.playbook.task import Task


class Target:
    """Replays wmi_state replies in order and records every call's operations."""

    def __init__(self, replies: list[t.Any]) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict[str, t.Any]]] = []
        self.module_names: list[str] = []

    def __call__(self, module_name: str = "", module_args: dict[str, t.Any] | None = None, **kwargs: t.Any) -> t.Any:
        self.module_names.append(module_name)
        self.calls.append(copy.deepcopy((module_args or {})["operations"]))
        reply = self.replies.pop(0)
        if callable(reply):
            reply = reply(module_args["operations"])  # type: ignore[index]
        if isinstance(reply, list):
            reply = {"changed": False, "results": reply, "invocation": {"module_args": module_args}}
        return copy.deepcopy(reply)

    @property
    def ops(self) -> list[list[str]]:
        return [[operation["op"] for operation in call] for call in self.calls]


def make_action(
    module: t.Any,
    args: dict[str, t.Any],
    *,
    check_mode: bool = False,
    diff: bool = False,
    windows: bool = True,
    action_name: str = "",
) -> t.Any:
    task = MagicMock(Task)
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    task.action = action_name
    task.delegate_to = None
    connection = MagicMock()
    connection._shell._IS_WINDOWS = windows
    play_context = MagicMock()
    play_context.check_mode = check_mode
    return module.ActionModule(task, connection, play_context, loader=None, templar=None, shared_loader_obj=None)


@pytest.fixture
def run_action(monkeypatch: pytest.MonkeyPatch) -> t.Callable[..., tuple[dict[str, t.Any], Target]]:
    def run(module: t.Any, args: dict[str, t.Any], replies: list[t.Any], **kwargs: t.Any) -> tuple[dict, Target]:
        plugin = make_action(module, args, **kwargs)
        target = Target(replies)
        monkeypatch.setattr(plugin, "_execute_module", target)
        return plugin.run(task_vars={}), target

    return run
