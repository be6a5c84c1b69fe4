"""Scale check of the WinRM simulator: hosts per process, module round trips and HTTP requests per second.

Starts ``python -m simulator serve`` as its own process with a generated fleet of ``--hosts`` hosts, then drives it
with ``--clients`` threads of the real pywinrm client. Each round trip is what Ansible does per task: Create shell,
Command, Send (a real ~170 KB module payload built by the installed ansible-core), Receive, Signal, Delete - six
HTTP requests and one module execution (``winsec.wmi.wmi_state`` reading facts, the unsecapp value and root's SD).

    .venv/2.19/bin/python benchmarks/simulator_throughput.py --hosts 500 --clients 8 --seconds 20

Numbers depend on the machine; they are printed, never asserted (DESIGN §5).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import winrm
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILDER = REPO_ROOT / "tests" / "unit" / "simulator" / "payload_builder.py"
WMI_STATE_PS1 = (
    REPO_ROOT / "collections" / "ansible_collections" / "winsec" / "wmi" / "plugins" / "modules" / "wmi_state.ps1"
)
ARGS = {
    "operations": [
        {"op": "facts"},
        {"op": "registry_read", "value": "unsecapp_access_control_default"},
        {"op": "sd_get", "namespace": "root", "recurse": False},
    ],
    "_ansible_check_mode": True,
    "_ansible_module_name": "winsec.wmi.wmi_state",
}


def build_payload(workdir: Path) -> bytes:
    sys.path.insert(0, str(REPO_ROOT))
    from simulator._paths import ensure_collection_tree

    ensure_collection_tree()
    specs = workdir / "specs.json"
    collection_paths = [str(REPO_ROOT / "collections")]
    specs.write_text(
        json.dumps(
            [
                {
                    "module_name": "winsec.wmi.wmi_state",
                    "module_path": str(WMI_STATE_PS1),
                    "args": ARGS,
                    "collection_paths": collection_paths,
                }
            ]
        )
    )
    subprocess.run([sys.executable, str(BUILDER), str(specs), str(workdir)], check=True)
    return (workdir / "0.bin").read_bytes()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        payload = build_payload(workdir)
        fleet_file = workdir / "bench.yml"
        fleet_file.write_text(
            yaml.safe_dump({"hosts": [{"name": "bench{index:04d}", "count": options.hosts, "profile": "2022"}]})
        )
        started = time.monotonic()
        server = subprocess.Popen(
            [sys.executable, "-m", "simulator", "serve", "--fleet", str(fleet_file), "--port", "0"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        line = server.stdout.readline()
        port = int(line.split("port=")[1].split()[0])
        startup = time.monotonic() - started
        idle_rss = rss_mb(server.pid)
        hosts = [f"bench{i:04d}" for i in range(1, options.hosts + 1)]

        counts = {"round_trips": 0, "errors": 0}
        latencies: list[float] = []
        lock = threading.Lock()
        deadline = time.monotonic() + options.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < deadline:
                host = rng.choice(hosts)
                protocol = winrm.Protocol(
                    f"http://127.0.0.1:{port}/wsman/{host}",
                    transport="basic",
                    username="simadmin",
                    password="Sim-Admin-Pass1",
                    proxy=None,
                )
                begin = time.monotonic()
                try:
                    shell = protocol.open_shell(codepage=65001)
                    command = protocol.run_command(shell, "powershell", ["-NoProfile", "-EncodedCommand", "AA=="])
                    protocol.send_command_input(shell, command, payload, end=True)
                    stdout, _stderr, rc = protocol.get_command_output(shell, command)
                    protocol.cleanup_command(shell, command)
                    protocol.close_shell(shell)
                    ok = rc == 0 and b'"results"' in stdout
                except Exception:
                    ok = False
                with lock:
                    counts["round_trips" if ok else "errors"] += 1
                    latencies.append(time.monotonic() - begin)

        os.environ["NO_PROXY"] = "127.0.0.1,localhost"
        threads = [threading.Thread(target=client, args=(i,)) for i in range(options.clients)]
        begin = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - begin
        busy_rss = rss_mb(server.pid)
        server.terminate()
        server.wait(timeout=10)

    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else float("nan")
    p95 = latencies[int(len(latencies) * 0.95)] * 1000 if latencies else float("nan")
    print(
        f"hosts served by one process : {options.hosts} (startup {startup:.2f} s, RSS {idle_rss:.0f} MB idle, "
        f"{busy_rss:.0f} MB after the run)"
    )
    print(f"client threads              : {options.clients}, {elapsed:.1f} s")
    print(f"payload per module call     : {len(payload):,} bytes")
    print(
        f"module round trips          : {counts['round_trips']} ok, {counts['errors']} errors, "
        f"{counts['round_trips'] / elapsed:.1f}/s (p50 {p50:.1f} ms, p95 {p95:.1f} ms)"
    )
    print(f"HTTP requests               : {6 * counts['round_trips'] / elapsed:.1f}/s (6 per round trip)")


if __name__ == "__main__":
    main()
