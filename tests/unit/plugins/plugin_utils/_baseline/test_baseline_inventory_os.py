# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""inventory_os: every spelling of NT 4.0, 2000, XP and Server 2003 is recognised (the host is never contacted);
newer releases and values that only mention an old release are never taken for one (the host is read)."""

from __future__ import annotations

import datetime

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_doc
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._inventory_os import unmanageable_os
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._run import run_baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import WmiActionError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import FakeWmiCaller
from hypothesis import given, settings
from hypothesis import strategies as st

NT4, W2000, XP, S2003 = "Windows NT 4.0", "Windows 2000", "Windows XP", "Windows Server 2003"


@pytest.mark.parametrize(
    ("value", "family"),
    [
        # the red-team list
        ("Windows 2003", S2003),
        ("Microsoft Windows Server 2003", S2003),
        ("Windows Server 2003, Enterprise Edition", S2003),
        ("Windows Server 2003 R2 (x64)", S2003),
        ("w2k3", S2003),
        ("Microsoft Windows XP Professional", XP),
        ("Windows NT Server 4.0", NT4),
        ("Windows 2000 Professional, SP4", W2000),
        ("Microsoft(R) Windows(R) Server 2003, Enterprise Edition", S2003),
        # Win32_OperatingSystem captions and AD operatingSystem values
        ("Microsoft(R) Windows(R) Server 2003, Enterprise Edition for 64-Bit Itanium-based Systems", S2003),
        ("Microsoft(R) Windows(R) Server 2003 Standard x64 Edition", S2003),
        ("Microsoft® Windows Server® 2003 R2 Datacenter Edition SP2", S2003),
        ("Windows Server® 2003 Web Edition", S2003),
        ("Microsoft Windows Small Business Server 2003", S2003),
        ("Windows Storage Server 2003 R2", S2003),
        ("Windows Server 2003 Service Pack 2", S2003),
        ("WIN2K3", S2003),
        ("2003r2", S2003),
        ("Windows NT 5.2", S2003),
        ("Microsoft Windows XP Home Edition", XP),
        ("Windows XP Professional x64 Edition", XP),
        ("Windows XP Media Center Edition", XP),
        ("Windows XP Tablet PC Edition SP3", XP),
        ("WinXP", XP),
        ("Microsoft Windows 2000 Advanced Server", W2000),
        ("Windows 2000 Datacenter Server", W2000),
        ("win2k", W2000),
        ("Windows NT 5.0", W2000),
        ("Windows NT", NT4),
        ("Windows NT Workstation 4.0 SP6a", NT4),
        ("Windows NT Server 4.0, Terminal Server Edition", NT4),
        ("nt4", NT4),
        # the values the old anchored patterns already accepted
        ("2003", S2003),
        ("2003 R2", S2003),
        ("xp", XP),
        ("2000", W2000),
        ("NT 4.0", NT4),
    ],
)
def test_unmanageable_spellings(value, family):
    classified = unmanageable_os(value)
    assert classified is not None and classified[0] == family
    _family, why, mitigation = classified
    assert ("PowerShell 2.0" in why) is (family == S2003)
    # Reports show the two side by side ("Why", "Mitigation"): each says its own thing.
    assert why and mitigation and mitigation not in why and why not in mitigation
    assert ("UnsecAppAccessControlDefault is 1" in mitigation) is (family == S2003)


@pytest.mark.parametrize(
    "value",
    [
        "Windows Server 2008",
        "Windows Server 2008 R2 Enterprise",
        "Windows Server 2012 R2 Datacenter",
        "Microsoft Windows Server 2016 Standard",
        "Windows Server 2019",
        "Microsoft Windows Server 2022 Datacenter",
        "Windows Server 2025 Datacenter: Azure Edition",
        "Windows Vista Business",
        "Windows 7 Professional",
        "Windows 8.1 Pro",
        "Windows 10 Enterprise",
        "Microsoft Windows 11 Pro",
        "Windows NT 6.1",
        "Windows NT 10.0",
        # Only mentions an old release: judged ambiguous, so read (the behaviour for any unknown value).
        "Windows Server 2003 based appliance",
        "Windows Server 2003 upgraded to 2008",
        "Windows XP Mode",
        "Windows 2000 or later",
        "Windows Embedded Standard 2009",
        "Windows Server 2003 / Windows XP",
        "Windows Server 2003 SP2 (5.2.3790)",
        "Windows",
        "Microsoft Windows Server",
        "",
        "   ",
        "2003-10-01",
        "Ubuntu 22.04",
    ],
)
def test_other_values_connect(value):
    assert unmanageable_os(value) is None


def test_no_value_connects():
    assert unmanageable_os(None) is None


# --- properties over generated spellings -------------------------------------------------------------------------


def cased(text: str) -> st.SearchStrategy[str]:
    """The text in any mix of upper and lower case."""
    return st.lists(st.booleans(), min_size=len(text), max_size=len(text)).map(
        lambda flags: "".join(char.upper() if upper else char.lower() for char, upper in zip(text, flags, strict=True))
    )


SEPARATORS = st.sampled_from([" ", "  ", ", ", " - ", "_", "\t"])
VENDOR = st.sampled_from(["", "Microsoft ", "Microsoft(R) ", "Microsoft® ", "MS "])
WINDOWS = st.sampled_from(["Windows", "Windows(R)", "Windows®", "Windows(TM)", "Win"])
SERVICE_PACK = st.sampled_from(["", "SP1", "SP2", "SP 3", "Service Pack 4", "SP6a"])
ARCH = st.sampled_from(["", "x64", "(x64)", "x86", "64-bit", "32-bit", "for Itanium-based Systems", "x64 Edition"])

CORES = {
    NT4: ["NT", "NT 4.0", "NT 4", "NT4", "NT Server 4.0", "NT Workstation 4.0", "NT 4.0 Server"],
    W2000: ["2000", "2000 Server", "2000 Professional", "2000 Advanced Server", "2000 Datacenter Server"],
    XP: ["XP", "XP Professional", "XP Home Edition", "XP Media Center Edition", "XP Tablet PC Edition"],
    S2003: [
        "Server 2003",
        "Server 2003 R2",
        "2003",
        "Server 2003, Standard Edition",
        "Server 2003, Enterprise Edition",
        "Server 2003 R2 Datacenter Edition",
        "Server 2003, Web Edition",
        "Small Business Server 2003",
        "Storage Server 2003",
    ],
}
NEWER = [
    "Vista",
    "Vista Business",
    "7",
    "7 Professional",
    "8",
    "8.1 Pro",
    "10 Enterprise",
    "11 Pro",
    "Server 2008",
    "Server 2008 R2",
    "Server 2012",
    "Server 2012 R2",
    "Server 2016 Standard",
    "Server 2019 Datacenter",
    "Server 2022",
    "Server 2025",
]


@st.composite
def spelling(draw: st.DrawFn, core: str) -> str:
    parts = [draw(VENDOR) + draw(WINDOWS), core, draw(ARCH), draw(SERVICE_PACK)]
    separator = draw(SEPARATORS)
    return draw(cased(separator.join(part for part in parts if part)))


FAMILY_SPELLINGS = st.sampled_from(
    [(family, core) for family, cores in sorted(CORES.items()) for core in cores]
).flatmap(lambda pair: st.tuples(st.just(pair[0]), spelling(pair[1])))


@settings(max_examples=500, deadline=None)
@given(FAMILY_SPELLINGS)
def test_every_spelling_of_an_unmanageable_release_is_recognised(family_and_value):
    family, value = family_and_value
    classified = unmanageable_os(value)
    assert classified is not None and classified[0] == family, value


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NEWER).flatmap(spelling))
def test_no_spelling_of_a_newer_release_is_taken_for_an_old_one(value):
    assert unmanageable_os(value) is None, value


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([core for cores in CORES.values() for core in cores]).flatmap(spelling),
    st.sampled_from(["based appliance", "upgraded to 2008", "or later", "compatible", "Mode", "2008", "10"]),
)
def test_a_value_that_only_mentions_an_old_release_is_read(value, extra):
    # Any word that is not part of a release's name makes the value ambiguous: the host is read, as before.
    assert unmanageable_os(f"{value} {extra}") is None


@pytest.mark.parametrize("inventory_os", [NT4, W2000, XP, S2003, None])
def test_an_exception_for_an_unknown_control_is_refused_on_every_host(inventory_os: str | None) -> None:
    # A misspelt control ID is the user's mistake whatever the host: refused before any host is contacted.
    given = {
        "mode": "audit",
        "inventory_os": inventory_os,
        "exceptions": [{"control": "WMI-04", "namespace": "root\\cimv2", "reason": "typo"}],
    }
    params = ArgumentSpecValidator(argspec_from_doc(DOCUMENTATION)).validate(given).validated_parameters
    caller = FakeWmiCaller(lambda operations: pytest.fail("contacted the host"))
    with pytest.raises(WmiActionError, match=r"exceptions\[0\]\.control: unknown control ID 'WMI-04'"):
        run_baseline(caller, params, datetime.date(2026, 12, 7))
    assert caller.calls == []
