# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wire contract of winsec.wmi.wmi_state as data: per-op parameters, result keys, error codes.

plugins/modules/wmi_state.yml documents the options and describes these in prose; this file states the parts an
argument spec cannot say, once. The PowerShell module ($requiredByOp, its write ops, the codes it emits), the
simulator and the controller's operation builders are compared with it by tests/unit (test_wmi_state_contract.py).
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

# Parameters each op needs besides 'op' (the option spec cannot say "required when op=..."). A call that lacks one
# fails as a whole before any operation runs.
REQUIRED_BY_OP: dict[str, tuple[str, ...]] = {
    "facts": (),
    "registry_read": ("value",),
    "registry_write": ("value", "data", "value_type", "expected"),
    "sd_get": ("namespace",),
    "sd_set": ("namespace", "sd", "expected_sd"),
    "sacl_set": ("namespace", "sd", "expected_sd"),
    "caller_rights": ("namespace",),
    "sid_lookup": ("names",),
    "name_lookup": ("sids",),
    "event_subscriptions": (),
    "event_subscription_remove": ("namespace", "kind", "expected_instance"),
    "event_subscription_create": ("namespace", "kind", "instance"),
    "script_files": ("paths",),
}

# Ops that write: refused in check mode (CHECK_MODE) and skipped after an earlier failed write (SKIPPED).
WRITE_OPS: frozenset[str] = frozenset(
    {"registry_write", "sd_set", "sacl_set", "event_subscription_remove", "event_subscription_create"}
)

# Keys of a successful op's result besides 'op' and 'failed'.
SUCCESS_KEYS: dict[str, tuple[str, ...]] = {
    "facts": (
        "os_caption",
        "os_version",
        "os_build",
        "product_type",
        "computer_name",
        "dns_host_name",
        "domain",
        "part_of_domain",
        "ps_version",
        "caller_sid",
        "caller_name",
        "caller_groups",
        "caller_deny_only_groups",
    ),
    "registry_read": ("key_exists", "exists", "type", "data"),
    "registry_write": ("before", "after"),
    "sd_get": ("namespaces",),
    "sd_set": ("sd", "read_back_error"),
    "sacl_set": ("sd", "read_back_error"),
    "caller_rights": ("mask",),
    "sid_lookup": ("accounts",),
    "name_lookup": ("accounts",),
    "event_subscriptions": ("filters", "consumers", "bindings"),
    "event_subscription_remove": ("removed",),
    "event_subscription_create": ("created",),
    "script_files": ("files", "stopped", "unread", "ansi_code_page"),
}
# Keys an option adds to a successful result: (op, option) -> keys.
CONDITIONAL_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sd_get", "resolve_names"): ("principals", "principal_errors"),
    ("sd_get", "sacl"): ("sacl_read",),
    ("event_subscriptions", "recurse"): ("namespace_errors",),
}

# A failed op's result is exactly these keys; 'error' is an ERROR_KEYS dict (also used per namespace, account, file).
FAILURE_KEYS: tuple[str, ...] = ("op", "failed", "error")
ERROR_KEYS: tuple[str, ...] = ("code", "hresult", "message")

# Every error code the module can emit; what each means to a user is _wmi_errors (WMI_HRESULTS, OPERATION_ERRORS).
ERROR_CODES: tuple[str, ...] = (
    "WMI",  # a WMI/CIM failure; hresult is the WBEM HRESULT
    "ACCESS_DENIED",  # Windows refused access outside WMI (registry, file); hresult 0x80070005
    "REGISTRY",  # another registry failure
    "FILE",  # a script file could not be read
    "LOOKUP",  # an account name or SID could not be translated (per account)
    "NOT_FOUND",  # a script_files path does not exist
    "BUDGET",  # script_files: a file left unread because it would pass max_total_bytes
    "REPARSE_POINT",  # script_files: a junction or symbolic link listed in unread, not followed
    "INVALID_SD",  # sd_set: not a self-relative descriptor, or no DACL / a NULL DACL (refused before SetSD);
    # sacl_set: not a self-relative descriptor holding a SACL and nothing else
    "PRIVILEGE",  # sacl_set: the account does not hold SeSecurityPrivilege, which setting a SACL needs
    "INVALID_PROPERTY",  # event_subscription_create: a property the class does not declare, or a value its CIM type
    # cannot hold (typed from the class schema before New-CimInstance); nothing created
    "CHANGED_SINCE_READ",  # a write's expected state no longer holds; nothing written
    "CHECK_MODE",  # a write sent in check mode
    "SKIPPED",  # a write after a failed write
    "UNEXPECTED",  # any other host exception; hresult and message are the exception's
)
