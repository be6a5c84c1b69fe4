# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespace_findings import normalise_namespace
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespace_sd_plan import (
    NamespaceSdRefusal,
    parse_request,
    plan,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd import sd_from_sddl, sd_to_sddl

BASE = {
    "namespace": "root",
    "mode": "exact",
    "sddl": None,
    "aces": None,
    "owner": None,
    "group": None,
    "allow_lockout": False,
}
ADMIN = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("root/cimv2", "root\\cimv2"),
        ("ROOT\\CIMV2", "root\\CIMV2"),
        ("\\\\root\\\\cimv2\\", "root\\cimv2"),
        ("root", "root"),
    ],
)
def test_namespace_spellings(text, expected):
    assert normalise_namespace(text) == expected


@pytest.mark.parametrize("text", ["", "cimv2", "root\\a:b", "root/*"])
def test_bad_namespaces(text):
    with pytest.raises(ValueError):
        normalise_namespace(text)


def test_owner_and_group_default_to_the_hosts():
    request = parse_request({**BASE, "sddl": "D:" + ADMIN})
    current = sd_from_sddl("O:SYG:SYD:(A;;CC;;;AU)" + ADMIN)
    decision = plan(request, current)
    assert decision.changed
    assert sd_to_sddl(decision.candidate) == "O:SYG:SYD:" + ADMIN


def test_owner_option_wins_and_is_a_change():
    request = parse_request({**BASE, "sddl": "D:" + ADMIN, "owner": "BA"})
    decision = plan(request, sd_from_sddl("O:SYG:SYD:" + ADMIN))
    assert decision.changed
    assert "owner: NT AUTHORITY\\SYSTEM (S-1-5-18) -> BUILTIN\\Administrators (S-1-5-32-544)" in decision.changes


def test_protected_dacl_drops_inherited_aces_in_the_prediction():
    request = parse_request({**BASE, "sddl": "O:BAG:BAD:P" + ADMIN})
    decision = plan(request, sd_from_sddl("O:BAG:BAD:" + ADMIN + "(A;CIID;CC;;;AU)"))
    assert decision.changed
    assert sd_to_sddl(decision.predicted) == "O:BAG:BAD:P" + ADMIN


def test_reordering_alone_is_a_change_in_words():
    request = parse_request({**BASE, "sddl": "O:BAG:BAD:(D;;WP;;;BG)" + ADMIN})
    decision = plan(request, sd_from_sddl("O:BAG:BAD:" + ADMIN + "(D;;WP;;;BG)"))
    assert decision.changed
    assert decision.changes == ["reordered the explicit ACEs into canonical order (deny before allow)"]


def test_absent_of_missing_ace_is_no_change():
    request = parse_request(
        {
            **BASE,
            "mode": "absent",
            "aces": [{"principal": "Everyone", "rights": None, "type": "allow", "inherit": None}],
        }
    )
    current = sd_from_sddl("O:BAG:BAD:" + ADMIN)
    assert not plan(request, current).changed


def test_lockout_refusal_in_exact_mode_is_before_contact():
    with pytest.raises(NamespaceSdRefusal) as refused:
        parse_request({**BASE, "aces": [{"principal": "AU", "rights": ["Enable"], "type": "allow", "inherit": None}]})
    assert refused.value.result["refusal"] == "lockout"


def test_lockout_waits_for_lookup_when_a_name_is_unknown():
    request = parse_request(
        {
            **BASE,
            "aces": [
                {
                    "principal": "VORDEFINIERT\\Administratoren",
                    "rights": ["FullControl"],
                    "type": "allow",
                    "inherit": None,
                }
            ],
        }
    )
    assert request.lookups == ["VORDEFINIERT\\Administratoren"]
