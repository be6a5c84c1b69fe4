# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Console warnings name their host, except the exact texts the controller wrote from the user's own exceptions."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._verdict import host_warnings
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._exceptions import (
    ControlExceptions,
    unmatched_exception_warning,
)

TODAY = datetime.date(2026, 12, 7)
EXCEPTION = {"control": "WMI-004", "namespace": "root\\cimv2", "principal": "svc_backup", "reason": "backup agent"}


def shared_texts() -> set[str]:
    return {unmatched_exception_warning(item) for item in ControlExceptions.parse([EXCEPTION], TODAY).items}


def test_an_unmatched_exception_prints_once_for_every_host() -> None:
    (text,) = shared_texts()
    result = {"status": "compliant", "warnings": [text]}
    assert host_warnings("web01", result, shared_texts()) == host_warnings("web02", result, shared_texts()) == [text]


@pytest.mark.parametrize(
    "host_text",
    [
        # A host-chosen file or consumer name quoting the words of the shared warning, or the whole of it.
        "C:\\Scripts\\x matches no finding of WMI-004 on some hosts.vbs: uses GetObject",
        "consumer 'a matches no finding of b' is not allowed",
        "{text} ",
        "{text}\u200b",
    ],
)
def test_a_warning_quoting_the_shared_words_keeps_its_host(host_text: str) -> None:
    (text,) = shared_texts()
    warning = host_text.format(text=text)
    result = {"status": "compliant", "warnings": [warning, text]}
    assert host_warnings("web01", result, shared_texts()) == [f"web01: {warning}", text]
