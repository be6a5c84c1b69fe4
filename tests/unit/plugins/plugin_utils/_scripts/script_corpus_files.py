# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The script corpus as Windows stores it: UTF-16 and ANSI files re-saved from their UTF-8 sources, plus generated
binary and oversized files. The repository keeps only UTF-8 text with LF line ends (ansible-test sanity requires it:
it reads .js/.ps1/.psm1 as UTF-8 text and rejects CR line ends)."""

from __future__ import annotations

import codecs
import json
import random
import shutil
from pathlib import Path

SOURCE = Path(__file__).parent / "script_corpus"
MANIFEST = json.loads((SOURCE / "expected.json").read_text())
BOMS = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}


def oversized_script() -> bytes:
    """A 78 KB VBScript (larger than the manifest's max_file_bytes) with an ADSI-extension use on line 903."""
    lines = ["' A generated inventory script, larger than the corpus test's max_file_bytes (65536)."]
    lines += [
        f'WScript.Echo "line {i:05d} of the inventory report, padded to a realistic length ....."' for i in range(900)
    ]
    lines += [
        'Set objComputer = GetObject("LDAP://CN=BIG01,DC=corp,DC=example,DC=com")',
        "WScript.Echo objComputer.WMIObjectPath",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def binary_file() -> bytes:
    """An executable's first bytes (MZ header, NULs) under a .vbs name."""
    generator = random.Random(13)
    return bytes([0x4D, 0x5A, 0x90, 0x00]) + bytes(generator.randrange(256) for _byte in range(2000))


def materialize(destination: Path) -> Path:
    """Copy the corpus to destination/script_corpus, re-encoded and completed; return that directory."""
    root = destination / "script_corpus"
    shutil.copytree(SOURCE, root)
    (root / "expected.json").unlink()
    for name, form in MANIFEST["windows_encodings"].items():
        text = (SOURCE / name).read_text(encoding="utf-8")
        if form["crlf"]:
            text = text.replace("\n", "\r\n")
        data = text.encode(form["encoding"])
        (root / name).write_bytes((BOMS[form["encoding"]] if form["bom"] else b"") + data)
    (root / "other" / "oversized.vbs").write_bytes(oversized_script())
    (root / "other" / "binary.vbs").write_bytes(binary_file())
    return root
