# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What unit tests stand in for a Windows host with: the facts a host reports and a fake WmiCaller.

One place for both, imported as ``ansible_collections.winsec.wmi.tests.unit.plugins.fakes``:

* ``WS2022_FACTS``, ``W2000_FACTS`` and ``facts(**overrides)``: the ``facts`` operation's reply of wmi_state
  (plugins/modules/wmi_state.yml), for a current and a legacy host.
* ``FakeWmiCaller(reply, check_mode=..., diff_mode=...)``: the WmiCaller protocol of plugins/plugin_utils/_wmi_errors.py
  (``check_mode``, ``diff_mode``, ``wmi_call``, ``op_value``) over a function from the operations of one round trip
  to their results; ``.calls`` records every round trip. ``per_operation(answer)`` makes that function from one that
  answers a single operation.
"""

from __future__ import annotations

import typing as t

from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import op_value

Operation = dict[str, t.Any]

WS2022_FACTS: dict[str, t.Any] = {
    "op": "facts",
    "failed": False,
    "os_caption": "Microsoft Windows Server 2022 Datacenter",
    "os_version": "10.0.20348",
    "os_build": 20348,
    "product_type": 3,
    "computer_name": "WEB01",
    "dns_host_name": "web01.corp.example.com",
    "domain": "corp.example.com",
    "part_of_domain": True,
    "ps_version": "5.1",
}
W2000_FACTS: dict[str, t.Any] = {
    **WS2022_FACTS,
    "os_caption": "Microsoft Windows 2000 Server",
    "os_version": "5.0.2195",
    "os_build": 2195,
    "ps_version": "2.0",
}


def facts(**overrides: t.Any) -> dict[str, t.Any]:
    """The facts reply of a Windows Server 2022 host, with ``overrides`` (e.g. another os_version)."""
    return {**WS2022_FACTS, **overrides}


def per_operation(answer: t.Callable[[Operation], dict[str, t.Any]]) -> t.Callable[[list[Operation]], list[Operation]]:
    """A round trip's reply made of one answer per operation, in order (as wmi_state answers)."""
    return lambda operations: [answer(operation) for operation in operations]


class FakeWmiCaller:
    """A WmiCaller with no host behind it: ``reply`` answers each round trip; every round trip is recorded."""

    op_value = staticmethod(op_value)

    def __init__(
        self,
        reply: t.Callable[[list[Operation]], list[Operation]],
        *,
        check_mode: bool = False,
        diff_mode: bool = False,
    ) -> None:
        self.reply = reply
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.calls: list[list[Operation]] = []

    def wmi_call(self, operations: list[Operation]) -> list[Operation]:
        self.calls.append(operations)
        return self.reply(operations)
