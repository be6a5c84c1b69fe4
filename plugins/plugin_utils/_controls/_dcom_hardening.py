# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DCOM activation hardening (KB5004442, CVE-2021-26414): baseline control WMI-021.

Remote WMI runs over DCOM. KB5004442 hardened DCOM activation in three steps: the June 8, 2021 updates added the
hardening, off by default; the June 14, 2022 updates turned it on by default, with
``HKLM\\SOFTWARE\\Microsoft\\Ole\\AppCompat\\RequireIntegrityActivationAuthenticationLevel`` = 0 as a way to turn it
off; the March 14, 2023 updates made it permanent, so the value no longer has any effect. A 0 is therefore a legacy
exception: it matters only on a host that lacks the March 2023 updates. ``RaiseActivationAuthenticationLevel``
(client side) raises activation requests to RPC_C_AUTHN_LEVEL_PKT_INTEGRITY: 1 for the default level, 2 for every
non-anonymous request; absent means 1 before the November 8, 2022 updates and 2 after them. Both need a restart.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import binascii
import typing as t
from dataclasses import replace

from .._control import Control, Decision, HostContext, Reference
from .._diff import registry_diff
from .._os_profile import OsProfile
from .._wmi_errors import op_value
from ._exceptions import NO_EXCEPTIONS, ControlExceptions
from ._unsecapp import STRING_TYPES, data_as_string, number_in_text

if t.TYPE_CHECKING:
    from ._registry import BaselineOptions

KB5004442 = Reference(
    "KB5004442: Manage changes for Windows DCOM Server Security Feature Bypass (CVE-2021-26414)",
    "https://support.microsoft.com/en-us/topic/"
    "kb5004442-manage-changes-for-windows-dcom-server-security-feature-bypass-cve-2021-26414-"
    "f1400b52-c141-43d2-941e-37ed901c769c",
)
DCOM_HARDENING_BLOG = Reference(
    "DCOM authentication hardening: what you need to know (Windows IT Pro Blog)",
    "https://techcommunity.microsoft.com/t5/windows-it-pro-blog/dcom-authentication-hardening-what-you-need-to-know/ba-p/3657154",
)

APPCOMPAT_KEY = "HKLM\\SOFTWARE\\Microsoft\\Ole\\AppCompat"
REQUIRE_VALUE = "dcom_require_integrity_activation_authentication_level"
RAISE_VALUE = "dcom_raise_activation_authentication_level"
REQUIRE_PATH = f"{APPCOMPAT_KEY}\\RequireIntegrityActivationAuthenticationLevel"
RAISE_PATH = f"{APPCOMPAT_KEY}\\RaiseActivationAuthenticationLevel"

# KB5004442 "Applies to" starts at Windows Server 2008 / Windows 7 (NT 6.0): older releases got no DCOM update.
FIRST_COVERED_VERSION = (6, 0)
# The newest build KB5004442 lists (Windows 11 version 22H2, 22621; its servers end at Server 2022, 20348). Builds
# above it (Windows 11 23H2 22631, Server 23H2 25398, Server 2025 / Windows 11 24H2 26100) were first released after
# March 14, 2023, so they ship with the hardening permanently on, whatever their patch level.
LAST_LISTED_BUILD = 22621

RAISE_MEANINGS = {
    1: "raise the default activation authentication level to RPC_C_AUTHN_LEVEL_PKT_INTEGRITY",
    2: "raise every non-anonymous activation request below RPC_C_AUTHN_LEVEL_PKT_INTEGRITY to it",
}


def _dword(read: t.Mapping[str, t.Any]) -> int | None:
    """The value as a number when it is a REG_DWORD (the type KB5004442 documents); None otherwise."""
    if read.get("exists") and read.get("type") == "REG_DWORD" and isinstance(read.get("data"), int):
        return int(read["data"])
    return None


def _reads_as_zero(read: t.Mapping[str, t.Any]) -> bool:
    """Whether the value holds 0 in any registry type, as the wmi_state read reports it (numbers as numbers, strings
    as text, REG_MULTI_SZ as a list, REG_BINARY and REG_NONE as base64).

    KB5004442 documents REG_DWORD only, and whether DCOM reads another type is not documented; a reader that takes
    the first four bytes, or parses the text, would see 0. So a 0 of any type is taken as the exception that may be
    in effect - the stricter reading, as for UnsecAppAccessControlDefault, where an undocumented type never counts.
    """
    if not read.get("exists"):
        return False
    reg_type, data = read.get("type"), read.get("data")
    if isinstance(data, bool):
        return False
    if reg_type in ("REG_DWORD", "REG_QWORD"):
        return data == 0
    if reg_type in STRING_TYPES and isinstance(data, str):
        return number_in_text(data) == 0
    if reg_type == "REG_MULTI_SZ" and isinstance(data, list):
        # Read as a string, a REG_MULTI_SZ yields its first string.
        return bool(data) and isinstance(data[0], str) and number_in_text(data[0]) == 0
    if reg_type in ("REG_BINARY", "REG_NONE") and isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return False
        return not any(raw)  # no byte set: every width of integer read from it is 0 (an empty value included)
    return False


def _shown(read: t.Mapping[str, t.Any]) -> str:
    if not read.get("exists"):
        return "absent"
    return f"{data_as_string(read.get('data'))} ({read.get('type')})"


def exception_effect(profile: OsProfile) -> tuple[bool, str]:
    """(may still take effect, why) for RequireIntegrityActivationAuthenticationLevel = 0 on this release."""
    if profile.build > LAST_LISTED_BUILD:
        return False, (
            f"build {profile.build} was first released after the March 14, 2023 updates, which made the hardening "
            "permanent (KB5004442): the value is ignored"
        )
    return True, (
        f"on build {profile.build} the value is ignored once the March 14, 2023 update (or a later one) is installed "
        "(KB5004442); without it, DCOM activation hardening is OFF. The update level is not read by this control"
    )


class DcomHardening(Control):
    """WMI-021: no legacy exception turns DCOM activation hardening off (report; remove the exception on request)."""

    id = "WMI-021"
    title = "DCOM activation hardening not disabled (KB5004442, CVE-2021-26414)"
    severity = "medium"
    references = (KB5004442, DCOM_HARDENING_BLOG)

    def __init__(self, *, remove_legacy_exception: bool = False, exceptions: ControlExceptions = NO_EXCEPTIONS) -> None:
        self.remove_legacy_exception = remove_legacy_exception
        self.exceptions = exceptions

    @classmethod
    def from_options(
        cls, options: t.Mapping[str, t.Any] | None, exceptions: ControlExceptions = NO_EXCEPTIONS
    ) -> DcomHardening:
        """``{remove_legacy_exception: bool}`` (default false: report only)."""
        return cls(
            remove_legacy_exception=bool((options or {}).get("remove_legacy_exception", False)), exceptions=exceptions
        )

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> DcomHardening:
        return cls.from_options(options.params.get("dcom"), options.exceptions)

    def reads(self) -> list[dict[str, t.Any]]:
        return [{"op": "registry_read", "value": REQUIRE_VALUE}, {"op": "registry_read", "value": RAISE_VALUE}]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        require = op_value(results[0], f"reading {REQUIRE_PATH}")
        raise_level = op_value(results[1], f"reading {RAISE_PATH}")
        require_value, raise_value = _dword(require), _dword(raise_level)
        actual = (
            f"RequireIntegrityActivationAuthenticationLevel {_shown(require)}, "
            f"RaiseActivationAuthenticationLevel {_shown(raise_level)}"
        )
        expected = "RequireIntegrityActivationAuthenticationLevel absent or 1 (no legacy exception)"
        result: dict[str, t.Any] = {
            "os": host.os_facts,
            "require_integrity": {**dict(require), "value": require_value},
            "raise_level": {**dict(raise_level), "value": raise_value},
        }
        version = (host.profile.major, host.profile.minor)
        if version < FIRST_COVERED_VERSION:
            reason = (
                f"Not applicable on {host.profile.family}: KB5004442's DCOM updates exist for Windows Server 2008 / "
                "Windows 7 and later only."
            )
            result["msg"] = reason
            return Decision("not_applicable", expected, actual, reason=reason, remediation=reason, result=result)

        findings: list[dict[str, t.Any]] = []
        if raise_level.get("exists") and raise_value not in RAISE_MEANINGS:
            findings.append(
                {
                    "id": "dcom_raise_level_unknown",
                    "severity": "info",
                    "message": f"{RAISE_PATH} is {_shown(raise_level)}; KB5004442 documents 1 and 2 only.",
                }
            )
        legacy_exception = _reads_as_zero(require)
        if require.get("exists") and require_value != 1 and not legacy_exception:
            findings.append(
                {
                    "id": "dcom_require_integrity_unknown",
                    "severity": "info",
                    "message": f"{REQUIRE_PATH} is {_shown(require)}; KB5004442 documents REG_DWORD 0 and 1 only.",
                }
            )
        if not legacy_exception:
            result.update(legacy_exception=False, msg=f"No legacy DCOM exception ({actual}).")
            return Decision("compliant", expected, actual, findings=findings, result=result)

        effective, why = exception_effect(host.profile)
        result["legacy_exception"] = True
        result["exception_may_take_effect"] = effective
        undocumented = (
            ""
            if require_value == 0
            else f" (stored as {_shown(require)}: KB5004442 documents REG_DWORD only and does not say whether DCOM "
            "reads another type, so it is taken as the exception)"
        )
        findings.insert(
            0,
            {
                "id": "dcom_legacy_exception",
                "severity": self.severity if effective else "low",
                "message": f"Legacy exception present: {REQUIRE_PATH} = 0{undocumented}; {why}.",
            },
        )
        if not effective:
            result["msg"] = f"Legacy exception present but ignored on this release ({actual})."
            return Decision("compliant", expected, actual, findings=findings, result=result)
        remediation = (
            f"Set {REQUIRE_PATH} to 1 (or delete it) once no DCOM client needs the exception, and install the "
            "latest cumulative update (from March 14, 2023 on the value is ignored). Restart for it to take effect."
            + (" Write it as REG_DWORD, the type KB5004442 documents." if require_value != 0 else "")
        )
        writes: list[dict[str, t.Any]] = []
        if self.remove_legacy_exception:
            writes = [
                {
                    "op": "registry_write",
                    "value": REQUIRE_VALUE,
                    "data": "1",
                    "value_type": "dword",
                    # The value as read, whatever its type; SetValue with RegistryValueKind.DWord replaces the type.
                    "expected": {"exists": True, "type": require.get("type"), "data": data_as_string(require["data"])},
                }
            ]
        result["msg"] = f"Legacy DCOM exception present: {REQUIRE_PATH} = {_shown(require)}."
        return Decision(
            "drift",
            expected,
            actual,
            findings=findings,
            writes=writes,
            changes=[f"{REQUIRE_PATH}: {_shown(require)} -> 1 (REG_DWORD)"] if writes else [],
            remediation=remediation,
            automatic=bool(writes),
            diff=registry_diff(REQUIRE_PATH, require, {"exists": True, "type": "REG_DWORD", "data": 1})
            if writes
            else None,
            result=result,
            warnings=[f"{REQUIRE_PATH} takes effect after a restart (KB5004442)."] if writes else [],
        )

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        written = op_value(results[0], f"writing {REQUIRE_PATH}")
        after = dict(written.get("after") or {})
        result = {**decision.result, "require_integrity": {**after, "value": _dword(after)}, "legacy_exception": False}
        result["msg"] = f"{REQUIRE_PATH} set to 1; restart the host for it to take effect."
        return replace(decision, status="remediated", result=result)
