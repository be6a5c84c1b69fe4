# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The script audit against a corpus of realistic scripts (script_corpus/, expected findings in expected.json).

Precision and recall are computed over (file, line, finding_id): 'findings' in the manifest are what the scanner
must report, 'missed' are true findings it is known not to report (they lower recall). The test asserts the exact
set, so a new false positive or a lost true positive fails it; the measured numbers are printed (pytest -s).
"""

from __future__ import annotations

import codecs

import pytest
from ansible_collections.winsec.wmi.plugins.action.script_audit import read_repository
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_audit import DEFAULT_PATTERNS
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_scan import scan_files
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._scripts.script_corpus_files import (
    MANIFEST,
    materialize,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return materialize(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def result(corpus):
    files, stopped = read_repository(str(corpus), DEFAULT_PATTERNS, MANIFEST["max_file_bytes"], 10**7, 1000)
    assert stopped is None
    return scan_files(files, lockdown=False, max_file_bytes=MANIFEST["max_file_bytes"])


def test_corpus_files_are_saved_as_windows_saves_them(corpus):
    assert (corpus / "vbs/utf16le_bom_async.vbs").read_bytes().startswith(codecs.BOM_UTF16_LE + b"'\x00")
    assert (corpus / "js/utf16be_nobom_async.js").read_bytes().startswith(b"\x00/\x00/")
    assert b"\r\n" in (corpus / "vbs/ansi_cp1252_adsi.vbs").read_bytes()
    assert (corpus / "js/utf8bom_adsi.js").read_bytes().startswith(codecs.BOM_UTF8)
    assert (corpus / "other/oversized.vbs").stat().st_size > MANIFEST["max_file_bytes"]


def test_corpus_every_expected_file_is_read_with_its_status(result):
    assert {record["file"]: record["status"] for record in result.files} == {
        name: entry["status"] for name, entry in MANIFEST["files"].items()
    }
    assert "other/notes.txt" not in {record["file"] for record in result.files}  # patterns exclude it


def precision_and_recall(reported, truth):
    true_positives = reported & truth
    precision = len(true_positives) / len(reported) if reported else 1.0
    recall = len(true_positives) / len(truth) if truth else 1.0
    return precision, recall


def test_corpus_findings_are_exactly_the_expected_ones_with_precision_and_recall(result):
    reported = {(finding["file"], finding["line"], finding["finding_id"]) for finding in result.findings}
    expected = {(name, line, rule) for name, entry in MANIFEST["files"].items() for line, rule in entry["findings"]}
    missed = {(name, line, rule) for name, entry in MANIFEST["files"].items() for line, rule in entry.get("missed", [])}
    truth = expected | missed
    precision, recall = precision_and_recall(reported, truth)
    print(
        f"\nscript corpus: {len(reported)} reported, {len(truth)} true, precision {precision:.3f}, recall {recall:.3f}"
    )
    for language in ("vbs", "js", "ps1", "wsf"):
        in_language = {item for item in truth | reported if item[0].startswith(f"{language}/")}
        language_precision, language_recall = precision_and_recall(reported & in_language, truth & in_language)
        print(f"  {language}: precision {language_precision:.3f}, recall {language_recall:.3f}")
    assert sorted(reported - expected) == []  # false positives, or true findings the manifest calls missed
    assert sorted(expected - reported) == []  # expected findings not reported
    assert (len(reported), len(truth)) == (61, 63)
    assert (precision, recall) == (1.0, 61 / 63)


def test_corpus_negatives_have_the_risky_words_in_comments_and_strings(corpus):
    # Guards the negatives against rotting into trivially clean files: the words are there, as non-code.
    for name in (
        "vbs/negative_comments.vbs",
        "vbs/negative_docs_semisync.vbs",
        "js/negative_regex_strings.js",
        "js/negative_docs_semisync.js",
        "ps1/negative.ps1",
        "ps1/negative_docs.ps1",
        "wsf/negative.wsf",
        "wsf/negative_docs.wsf",
    ):
        text = (corpus / name).read_text()
        assert "GetWMIObject" in text or "WMIObjectPath" in text
        assert "Async" in text or "Register-WmiEvent" in text


def test_corpus_every_finding_has_the_documented_keys(result):
    keys = {"file", "line", "column", "language", "finding_id", "severity", "snippet", "explanation", "suggested_fix"}
    for finding in result.findings:
        assert set(finding) == keys
        assert finding["snippet"] and finding["explanation"] and finding["suggested_fix"]
