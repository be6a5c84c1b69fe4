# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The --diff builders: what each kind of write shows, and host text that cannot forge a diff line or the console."""

from __future__ import annotations

import copy

import pytest
from ansible.plugins.callback import CallbackBase
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import ControlRun, Decision, settle_writes
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._unsecapp_lockdown import UnsecappLockdown
from ansible_collections.winsec.wmi.plugins.plugin_utils._diff import (
    combined,
    descriptor_diff,
    descriptor_text,
    labelled,
    registry_diff,
    registry_text,
    sacl_diff,
    sacl_text,
    subscription_diff,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_sddl
from ansible_collections.winsec.wmi.plugins.plugin_utils._text import console_text

PATH = "HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault"
ORPHAN = "S-1-5-21-1-2-3-1109"


def shown(diff):
    return CallbackBase()._get_diff(copy.deepcopy(diff))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"exists": False}, f"{PATH} (absent)\n"),
        ({"exists": True, "type": "REG_DWORD", "data": 1}, f"{PATH} = REG_DWORD 1\n"),
        # Text quoted, so an empty or padded REG_SZ shows; a list (REG_MULTI_SZ) as JSON.
        ({"exists": True, "type": "REG_SZ", "data": " 1"}, f"{PATH} = REG_SZ ' 1'\n"),
        ({"exists": True, "type": "REG_SZ", "data": ""}, f"{PATH} = REG_SZ ''\n"),
        ({"exists": True, "type": "REG_MULTI_SZ", "data": ["0", "1"]}, f'{PATH} = REG_MULTI_SZ ["0", "1"]\n'),
        # Host data cannot start another diff line or send an escape sequence to the console.
        ({"exists": True, "type": "REG_SZ", "data": "0\n+x\x1b[2J"}, f"{PATH} = REG_SZ '0\\n+x\\x1b[2J'\n"),
    ],
)
def test_registry_text(value, text):
    assert registry_text(PATH, value) == text


def test_registry_diff_labels_the_value_and_says_what_absent_means():
    diff = registry_diff(PATH, {"exists": False}, {"exists": True, "type": "REG_DWORD", "data": 1}, absent="counts 0")
    assert diff == {
        "before_header": f"{PATH} (registry value)",
        "after_header": f"{PATH} (registry value)",
        "before": f"{PATH} (counts 0)\n",
        "after": f"{PATH} = REG_DWORD 1\n",
    }
    assert f"-{PATH} (counts 0)\n+{PATH} = REG_DWORD 1\n" in shown(diff)


def test_descriptor_text_is_the_sddl_and_a_readable_ace_table():
    sd = sd_from_sddl(f"O:BAG:BAD:P(D;;WP;;;AU)(A;CI;CCDCRP;;;{ORPHAN})(A;CIID;CCRC;;;BA)")
    assert descriptor_text(sd, {ORPHAN: "CORP\\gone"}).splitlines() == [
        f"sddl: O:BAG:BAD:P(D;;WP;;;AU)(A;CI;CCDCRP;;;{ORPHAN})(A;CIID;CCRC;;;BA)",
        "owner: BUILTIN\\Administrators (S-1-5-32-544)",
        "group: BUILTIN\\Administrators (S-1-5-32-544)",
        "dacl: 3 entries, protected",
        "  deny NT AUTHORITY\\Authenticated Users (S-1-5-11): RemoteAccess; inherit this (flags none); explicit",
        f"  allow CORP\\gone ({ORPHAN}): Enable, MethodExecute, ProviderWrite; inherit this_and_children "
        "(flags container_inherit); explicit",
        "  allow BUILTIN\\Administrators (S-1-5-32-544): Enable, ReadSecurity; inherit this_and_children "
        "(flags container_inherit, inherited); inherited",
    ]
    # An orphaned SID nobody resolved stays readable as the SID.
    assert f"  allow {ORPHAN} ({ORPHAN}):" in descriptor_text(sd)


def test_descriptor_text_of_a_null_dacl_and_no_owner():
    assert descriptor_text(sd_from_sddl("D:NO_ACCESS_CONTROL")).splitlines() == [
        "sddl: D:NO_ACCESS_CONTROL",
        "owner: none",
        "group: none",
        "dacl: NULL (no access control)",
    ]


def test_a_host_resolved_name_cannot_forge_a_diff_line():
    """Account names come from the host: a newline in one would print as a line of its own in the diff."""
    sd = sd_from_sddl(f"O:BAG:BAD:(A;;CC;;;{ORPHAN})")
    hostile = {ORPHAN: "x\n+  allow Everyone (S-1-1-0): WriteSecurity\x1b]0;pwned\x07\u202e"}
    text = descriptor_text(sd, hostile)
    assert len(text.splitlines()) == 5
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "x\\n+  allow Everyone (S-1-1-0): WriteSecurity\\x1b]0;pwned\\x07\\u202e" in text


def test_descriptor_diff_shows_the_namespace_and_the_changed_ace():
    before = sd_from_sddl("O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)")
    after = sd_from_sddl("O:BAG:BAD:(A;CI;CCDCRP;;;WD)")
    diff = descriptor_diff("root\\cimv2", before, after)
    assert diff["before_header"] == diff["after_header"] == "root\\cimv2 (namespace security descriptor)"
    printed = shown(diff)
    assert "-sddl: O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)\n+sddl: O:BAG:BAD:(A;CI;CCDCRP;;;WD)\n" in printed
    assert "+  allow Everyone (S-1-1-0): Enable, MethodExecute, ProviderWrite;" in printed
    # A host-supplied namespace name is made safe in the header too.
    assert descriptor_diff("root\\x\nevil", before, after)["before_header"].startswith("root\\x\\nevil")


def test_sacl_text_is_the_s_part_and_the_audit_entries():
    sd = sd_from_sddl("O:BAG:BAD:(A;;CC;;;BA)S:P(AU;CISA;WD;;;WD)(AU;FA;CC;;;BA)(AU;IDSAFA;RC;;;AU)")
    assert sacl_text(sd).splitlines() == [
        "sacl: S:P(AU;CISA;WD;;;WD)(AU;FA;CC;;;BA)(AU;IDSAFA;RC;;;AU)",
        "audit: 3 entries, protected",
        "  audit success Everyone (S-1-1-0): WriteSecurity; inherit this_and_children "
        "(flags container_inherit, successful_access); explicit",
        "  audit failure BUILTIN\\Administrators (S-1-5-32-544): Enable; inherit this (flags failed_access); explicit",
        "  audit success+failure NT AUTHORITY\\Authenticated Users (S-1-5-11): ReadSecurity; inherit this "
        "(flags inherited, successful_access, failed_access); inherited",
    ]
    assert sacl_text(sd_from_sddl("O:BAG:BAD:(A;;CC;;;BA)")) == "sacl: none\n"
    diff = sacl_diff("root", sd_from_sddl("O:BAG:BAD:(A;;CC;;;BA)"), sd)
    assert diff["before_header"] == "root (namespace SACL)" and diff["before"] == "sacl: none\n"


def test_subscription_diff_lists_each_part_with_its_properties():
    parts = [
        ("filter", {"namespace": "root\\subscription", "name": "F", "query": "SELECT 1", "event_namespace": None}),
        (
            "consumer",
            {
                "namespace": "root\\subscription",
                "name": "C",
                "class": "CommandLineEventConsumer",
                "command_line_template": "cmd /c a\r\n+ b",
                "script_text": None,
                "properties": {"KillTimeout": 0, "WorkingDirectory": "C:\\"},
            },
        ),
        (
            "binding",
            {
                "namespace": "root\\subscription",
                "filter": "F",
                "consumer": "C",
                "consumer_class": "CommandLineEventConsumer",
            },
        ),
    ]
    diff = subscription_diff("root\\subscription: F -> CommandLineEventConsumer.C", before=parts, after=[])
    assert diff["after"] == ""
    assert diff["before_header"] == "root\\subscription: F -> CommandLineEventConsumer.C (WMI repository)"
    assert diff["before"].splitlines() == [
        "__EventFilter 'F' in root\\subscription",
        "  query: SELECT 1",
        "CommandLineEventConsumer 'C' in root\\subscription",
        "  command_line_template: cmd /c a\\r\\n+ b",
        "  KillTimeout: 0",
        "  WorkingDirectory: C:\\",
        "__FilterToConsumerBinding in root\\subscription: filter 'F' -> CommandLineEventConsumer 'C'",
    ]


def test_combined_and_labelled():
    one = registry_diff(PATH, {"exists": False}, {"exists": True, "type": "REG_DWORD", "data": 1})
    two = {**one, "before_header": "b", "after_header": "a"}
    assert combined([None, one]) == one
    assert combined([one, [two], None]) == [one, two]
    assert combined([None, []]) is None
    assert [item["before_header"] for item in labelled("WMI-001", [one, two])] == [
        f"WMI-001 {PATH} (registry value)",
        "WMI-001 b",
    ]
    assert labelled("WMI-001", None) == []
    # The default callback renders a list entry by entry.
    printed = shown([one, two])
    assert printed.count(f"+{PATH} = REG_DWORD 1") == 2 and "--- before: b\n+++ after: a\n" in printed


def test_a_write_left_for_the_next_run_shows_no_diff():
    """settle_writes keeps one writer per target: the control that waits writes nothing and shows no change."""
    diff = registry_diff(PATH, {"exists": False}, {"exists": True, "type": "REG_DWORD", "data": 1})
    write = {"op": "registry_write", "value": "unsecapp_access_control_default", "data": "1"}
    runs = [ControlRun(UnsecappLockdown(), Decision("drift", writes=[write], diff=diff)) for _copy in range(2)]
    settle_writes(runs)
    assert runs[0].decision.diff == diff
    assert runs[1].decision.writes == [] and runs[1].decision.diff is None


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("root\\cimv2 CORP\\jdoe é 名前", "root\\cimv2 CORP\\jdoe é 名前"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b[31mred\x9b", "\\x1b[31mred\\x9b"),
        ("abc\u202edcba\u2066\u200b", "abc\\u202edcba\\u2066\\u200b"),
        ("line\u2028sep", "line\\u2028sep"),
    ],
)
def test_console_text_escapes_what_a_console_acts_on(text, safe):
    assert console_text(text) == safe


def test_console_text_bounds_length():
    assert console_text("x" * 5000, 100) == "x" * 100 + "... (5000 characters in all)"
