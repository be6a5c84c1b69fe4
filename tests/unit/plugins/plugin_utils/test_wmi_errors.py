# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import (
    OPERATION_ERRORS,
    describe_error,
    hresult_name,
    is_access_denied,
    normalise_hresult,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_state_contract import CONTROLLER_ERROR_CODES, ERROR_CODES


@pytest.mark.parametrize(
    ("hresult", "name"),
    [
        (0x80041003, "WBEM_E_ACCESS_DENIED"),
        (0x80041008, "WBEM_E_INVALID_PARAMETER"),
        (0x8004100E, "WBEM_E_INVALID_NAMESPACE"),
        (0x8004100F, "WBEM_E_INVALID_OBJECT"),
        (0x80041056, "WBEM_E_METHOD_DISABLED"),
        (0x80049999, "HRESULT 0x80049999"),
    ],
)
def test_hresult_names(hresult, name):
    assert hresult_name(hresult) == name


@pytest.mark.parametrize("form", [2147749891, -2147217405, "0x80041003", "2147749891"])
def test_hresult_in_any_form_is_normalised(form):
    assert normalise_hresult(form) == 0x80041003


def test_wmi_error_sentence_keeps_hresult_and_host_message():
    error = describe_error({"code": "WMI", "hresult": -2147217405, "message": "Access denied "})
    assert error.name == "WBEM_E_ACCESS_DENIED"
    assert is_access_denied(error)
    sentence = error.sentence("reading root")
    assert sentence.startswith("reading root: WBEM_E_ACCESS_DENIED (0x80041003). Access denied")
    assert sentence.endswith("Host said: Access denied")
    assert error.to_dict()["hresult_hex"] == "0x80041003"


def test_contract_codes_are_named_without_hresult():
    error = describe_error({"code": "CHANGED_SINCE_READ", "hresult": None, "message": "x"})
    assert error.name == "CHANGED_SINCE_READ"
    assert "nothing was written" in error.explanation
    assert error.hresult is None


def test_missing_error_never_crashes():
    assert describe_error(None).name == "UNKNOWN"


def test_registry_access_denied_has_its_own_code_and_says_what_is_needed():
    error = describe_error({"code": "ACCESS_DENIED", "hresult": -2147024891, "message": "Requested registry access"})
    assert (error.name, error.hresult) == ("ACCESS_DENIED", 0x80070005)
    assert is_access_denied(error)
    assert "local administrator" in error.explanation and "elevated token" in error.explanation
    assert error.sentence("writing").startswith("writing: ACCESS_DENIED (0x80070005). Access denied by Windows")


@pytest.mark.parametrize("code", sorted(OPERATION_ERRORS))
def test_every_operation_code_is_explained_by_its_code_even_with_an_hresult(code):
    error = describe_error({"code": code, "hresult": 0x80131501, "message": ""})
    assert error.name == code and error.explanation == OPERATION_ERRORS[code]


def test_every_contract_code_is_explained():
    assert set(OPERATION_ERRORS) | {"WMI"} == set(ERROR_CODES) | set(CONTROLLER_ERROR_CODES)
