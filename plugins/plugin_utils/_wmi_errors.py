# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WMI HRESULTs and the errors of winsec.wmi.wmi_state, as names and sentences a user can act on."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ._text import console_text

# WBEM_E_* constants (wbemcli.h, "WMI Error Constants" in the WMI SDK) with what they mean for this collection.
WMI_HRESULTS: dict[int, tuple[str, str]] = {
    0x80041001: ("WBEM_E_FAILED", "WMI reported an unspecified failure."),
    0x80041002: ("WBEM_E_NOT_FOUND", "The WMI object was not found."),
    0x80041003: (
        "WBEM_E_ACCESS_DENIED",
        "Access denied: the connecting account lacks the right on this namespace (reading a security descriptor "
        "needs ReadSecurity, writing it needs WriteSecurity; both are granted to Administrators by default, "
        "and under UAC only to an elevated token).",
    ),
    0x80041008: (
        "WBEM_E_INVALID_PARAMETER",
        "WMI rejected a parameter: for SetSD this means no DACL, an invalid DACL, FullWrite without PartialWrite "
        "or ProviderWrite, InheritOnly without ContainerInherit, an unknown right, ACE flag or ACE type, or neither "
        "owner nor group.",
    ),
    0x8004100C: ("WBEM_E_NOT_SUPPORTED", "The operation is not supported by this version of WMI."),
    0x8004100E: ("WBEM_E_INVALID_NAMESPACE", "The namespace does not exist on this host."),
    0x8004100F: (
        "WBEM_E_INVALID_OBJECT",
        "The security descriptor does not pass the basic validity tests of WMI.",
    ),
    0x80041010: ("WBEM_E_INVALID_CLASS", "The WMI class does not exist in this namespace."),
    0x80041013: ("WBEM_E_PROVIDER_LOAD_FAILURE", "A WMI provider failed to load."),
    0x80041055: ("WBEM_E_METHOD_NOT_IMPLEMENTED", "The WMI method is not implemented."),
    0x80041056: (
        "WBEM_E_METHOD_DISABLED",
        "The WMI method is disabled on this host (for SetSD: the host's WMI refuses security changes).",
    ),
    0x80041087: ("WBEM_E_PRIVILEGE_NOT_HELD", "The connecting account does not hold a required privilege."),
    0x80070005: ("E_ACCESSDENIED", "Access denied by Windows (not by WMI)."),
}

# The wmi_state error codes other than WMI (_wmi_state_contract.ERROR_CODES and CONTROLLER_ERROR_CODES), explained
# for a user.
OPERATION_ERRORS: dict[str, str] = {
    "CHANGED_SINCE_READ": "The host changed between the read and the write; nothing was written. Run the task again.",
    "CHECK_MODE": "A write was sent in check mode and refused.",
    "NOT_FOUND": "The object does not exist on the host.",
    "LOOKUP": "An account name or SID could not be translated on the host (unknown account, orphaned SID, or no "
    "domain controller reachable).",
    "SKIPPED": "Skipped because an earlier write in the same call failed.",
    "ACCESS_DENIED": (
        "Access denied by Windows (not by WMI): the WMI-security registry values under HKLM can only be written by a "
        "local administrator with an elevated token. Under UAC, a local account in Administrators that connects "
        "remotely gets a filtered token (UAC remote restrictions, KB951016): use the built-in Administrator, a "
        "domain account in Administrators, or become."
    ),
    "REGISTRY": "The host could not read or write the registry value.",
    "FILE": "The host could not read the file.",
    "BUDGET": "Not read: reading it would pass max_total_bytes, the per-host budget for script files.",
    "INVALID_SD": (
        "Refused before SetSD: the descriptor is not a self-relative security descriptor, or it has no DACL or a "
        "NULL DACL (a NULL DACL grants everyone full control; Windows before Server 2003 accepted it). Nothing was "
        "written. A SACL write (WMI-022) is refused when its descriptor holds anything but a SACL."
    ),
    "PRIVILEGE": (
        "Setting a SACL needs SeSecurityPrivilege ('Manage auditing and security log', held by Administrators by "
        "default), which the connecting account does not hold. Nothing was written."
    ),
    "INVALID_PROPERTY": (
        "Refused before anything was created: a consumer property the class does not declare, or a value its CIM "
        "type cannot hold (WMI types each property from the class schema, e.g. KillTimeout is uint32)."
    ),
    "REPARSE_POINT": (
        "Not followed: a junction or symbolic link under a script path. Following one can loop or leave the path "
        "(ansible.windows win_find does not follow them either); audit its target by naming that path."
    ),
    "UNEXPECTED": "The host raised an error this collection does not classify.",
    "MALFORMED_REPLY": (
        "The host's answer to this read broke the wmi_state contract (a value of the wrong type, a missing key, or a "
        "value over its documented cap), so it was not used: the controls that need it are in error, the host's "
        "other controls keep their results. A host that answers this way may be compromised or run a modified "
        "wmi_state module; compare it with a known-good host."
    ),
}


@dataclass(frozen=True)
class WmiError:
    """One error reported by the target, named."""

    code: str
    hresult: int | None
    name: str
    message: str
    explanation: str

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "code": self.code,
            "hresult": self.hresult,
            "hresult_hex": hresult_hex(self.hresult),
            "name": self.name,
            "message": self.message,
            "explanation": self.explanation,
        }

    def sentence(self, context: str = "") -> str:
        """One sentence for msg: context, name (and HRESULT), what it means, and the host's own message."""
        where = f"{context}: " if context else ""
        head = self.name if self.hresult is None else f"{self.name} ({hresult_hex(self.hresult)})"
        # A MALFORMED_REPLY message is the controller's own (which key was wrong), not the host's words.
        said = "Found" if self.code == "MALFORMED_REPLY" else "Host said"
        detail = f" {said}: {console_text(self.message.strip(), 1000)}" if self.message and self.message.strip() else ""
        return f"{where}{head}. {self.explanation}{detail}"


def hresult_hex(hresult: int | None) -> str | None:
    if hresult is None:
        return None
    return f"0x{hresult & 0xFFFFFFFF:08X}"


def normalise_hresult(value: t.Any) -> int | None:
    """The HRESULT as an unsigned 32-bit int, whatever form the target sent (int, negative int, hex string)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        return None
    return number & 0xFFFFFFFF


def hresult_name(hresult: int | None) -> str:
    normalised = normalise_hresult(hresult)
    if normalised is None:
        return "UNKNOWN"
    known = WMI_HRESULTS.get(normalised)
    return known[0] if known else f"HRESULT {hresult_hex(normalised)}"


def describe_error(error: t.Mapping[str, t.Any] | None) -> WmiError:
    """Turn a wmi_state result's error ({code, hresult, message}) into a named WmiError."""
    error = error or {}
    code = str(error.get("code") or "WMI")
    message = str(error.get("message") or "")
    hresult = normalise_hresult(error.get("hresult"))
    if code in OPERATION_ERRORS:
        # Non-WMI codes keep their HRESULT (e.g. E_ACCESSDENIED) but are explained by the code.
        return WmiError(code=code, hresult=hresult, name=code, message=message, explanation=OPERATION_ERRORS[code])
    if code == "WMI" or hresult is not None:
        if hresult is not None and hresult in WMI_HRESULTS:
            name, explanation = WMI_HRESULTS[hresult]
        else:
            name, explanation = hresult_name(hresult), "WMI returned an error this collection does not know."
        return WmiError(code=code, hresult=hresult, name=name, message=message, explanation=explanation)
    return WmiError(code=code, hresult=None, name=code, message=message, explanation="The target reported an error.")


def is_access_denied(error: WmiError) -> bool:
    return error.code == "ACCESS_DENIED" or error.hresult in (0x80041003, 0x80070005)


def op_value(result: t.Mapping[str, t.Any], context: str) -> t.Mapping[str, t.Any]:
    """The result of one wmi_state operation, or its named failure (WmiOperationError)."""
    if result.get("failed"):
        raise WmiOperationError(context, describe_error(result.get("error")))
    return result


class WmiActionError(Exception):
    """Ends the task as failed with msg and extra result keys; never a traceback for an expected failure."""

    def __init__(self, msg: str, **result: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result

    def to_result(self) -> dict[str, t.Any]:
        return {"changed": False, **self.result, "failed": True, "msg": self.msg}


class WmiOperationError(WmiActionError):
    """One wmi_state operation failed; carries the named error."""

    def __init__(self, context: str, error: WmiError, **result: t.Any) -> None:
        super().__init__(error.sentence(context), error=error.to_dict(), **result)
        self.error = error


def written_value(result: t.Mapping[str, t.Any], context: str) -> t.Mapping[str, t.Any]:
    """The result of a write that reads its result back (sd_set, sacl_set): op_value, and when the write was made but
    the read-back failed, a failure that says the write happened (changed) - never one that looks like no change."""
    value = op_value(result, context)
    if value.get("read_back_error"):
        error = describe_error(value["read_back_error"])
        raise WmiActionError(
            f"{context}: the write was made, but reading the result back failed - {error.sentence()} The connecting "
            "account may have lost access to what it wrote; check the namespace's security from an administrator's "
            "console (wmimgmt.msc) before running again.",
            changed=True,
            read_back_error=error.to_dict(),
        )
    return value


class WmiCaller(t.Protocol):
    """What the module logic in plugin_utils needs from the action plugin (WmiAction implements it)."""

    @property
    def check_mode(self) -> bool: ...

    @property
    def diff_mode(self) -> bool: ...

    def wmi_call(self, operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]: ...

    def op_value(self, result: t.Mapping[str, t.Any], context: str) -> t.Mapping[str, t.Any]: ...
