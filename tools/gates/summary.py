"""Print the CI summary table: gate, result, seconds. Standard library only (runs even if a venv failed).

Usage: python3 tools/gates/summary.py <results dir> <gate> [<gate> ...]
A gate listed but without a result file did not run (a prerequisite, e.g. its venv, failed): it counts as failed.
Exit 0 when every listed gate passed, 1 otherwise.
"""

from __future__ import annotations

import pathlib
import sys


def main(argv: list[str]) -> int:
    results_dir, gates = pathlib.Path(argv[0]), argv[1:]
    rows = []
    for gate in gates:
        path = results_dir / f"{gate}.tsv"
        if not path.exists():
            rows.append((gate, "NOT RUN", "-"))
            continue
        _, code, seconds = path.read_text().strip().split("\t")
        rows.append((gate, "passed" if code == "0" else f"FAILED ({code})", seconds))
    width = max(len("gate"), *(len(r[0]) for r in rows))
    print()
    print(f"{'gate':<{width}}  {'result':<11}  {'seconds':>7}")
    print(f"{'-' * width}  {'-' * 11}  {'-' * 7}")
    for gate, result, seconds in rows:
        print(f"{gate:<{width}}  {result:<11}  {seconds:>7}")
    failed = [r[0] for r in rows if r[1] != "passed"]
    total = sum(int(r[2]) for r in rows if r[2] != "-")
    print(f"{total} gate-seconds in all")
    print(f"gates: {len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
