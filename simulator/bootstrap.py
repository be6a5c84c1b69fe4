"""What ansible-core's PowerShell bootstrap refuses before any module runs.

ansible-core 2.19 and later start every module with ``bootstrap_wrapper.ps1``, whose first lines are::

    if ($PSVersionTable.PSVersion -lt [Version]"5.1") {
        '{"failed":true,"msg":"Ansible requires PowerShell v5.1"}'
        exit 1
    }

ansible-core 2.18 and earlier check ``[Version]"3.0"`` in the same place and print
``{"failed":true,"msg":"Ansible requires PowerShell v3.0 or newer"}``. The payload format tells the two apart
(simulator/payload.py: ``exec_manifest`` is 2.19+, ``legacy_json`` is 2.18 and earlier), so the floor follows the
ansible-core that is really talking to the simulator.
"""

from __future__ import annotations

# payload format -> (minimum PowerShell (major, minor), the bootstrap's exact stdout line)
FLOORS: dict[str, tuple[tuple[int, int], bytes]] = {
    "exec_manifest": ((5, 1), b'{"failed":true,"msg":"Ansible requires PowerShell v5.1"}'),
    "legacy_json": ((3, 0), b'{"failed":true,"msg":"Ansible requires PowerShell v3.0 or newer"}'),
}


def version_tuple(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def refusal(ps_version: str, payload_format: str) -> bytes | None:
    """The bootstrap's stdout when it refuses this host's PowerShell for this ansible-core, else None."""
    minimum, line = FLOORS[payload_format]
    return line + b"\r\n" if version_tuple(ps_version) < minimum else None
