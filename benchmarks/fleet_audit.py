"""Fleet-scale benchmark of winsec.wmi: the audit, harden and re-run against the way administrators write it today.

Runs the real ``ansible-playbook`` against the WinRM simulator (simulator/) serving generated Windows Server 2019
hosts with an injected per-request latency (default 50 ms, one WAN-ish hop per WS-Man request). For each fleet size
and fork count, in the same run and one after the other:

* ``audit``   - playbooks/audit.yml (the role: winsec.wmi.baseline in check mode, then the fleet report, every format);
* ``typical`` - the same checks as people write them today: ``gather_facts: true``, ``ansible.windows.win_reg_stat``
  for UnsecAppAccessControlDefault, one ``winsec.wmi.namespace_sd_info`` task per namespace (6 namespaces);
* ``baseline`` - a play with the one ``winsec.wmi.baseline`` task, and ``win_ping`` - a play with one
  ``ansible.windows.win_ping`` task (the floor of any module call), on the same hosts;

then once per fleet (largest fork count) ``harden`` (playbooks/harden.yml; the fleet is generated with
UnsecAppAccessControlDefault = 0, so every host has one thing to fix) and the idempotent ``rerun`` of it.

Per run it records wall time, controller CPU (user + sys of ansible-playbook and its workers:
``getrusage(RUSAGE_CHILDREN)`` deltas), simulator CPU, and the simulator's per-host counters (round trips = module
executions, WinRM HTTP requests, WS-Man body bytes each way). ``--profile`` also runs the audit's module task under
cProfile in every ansible process (benchmarks/_profile_ansible.py) and splits controller time by component.
``--report`` runs benchmarks/report_render.py (10,000 hosts x 10 controls, every format).

    .venv/2.19/bin/python benchmarks/fleet_audit.py                 # the full run (make bench)
    .venv/2.19/bin/python benchmarks/fleet_audit.py --quick         # 5 hosts, one fork count: a sanity run

Writes benchmarks/results/latest.json and latest.md (``--out DIR`` elsewhere). Numbers depend on the machine; they
are printed and recorded, never asserted (a test checks the round-trip counts and the keys, not the times).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from simulator.harness import ANSIBLE_PLAYBOOK, Fleet, ansible_env  # noqa: E402

RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
PROFILER = REPO_ROOT / "benchmarks" / "_profile_ansible.py"
REPORT_RENDER = REPO_ROOT / "benchmarks" / "report_render.py"
# What the typical playbook reads one task at a time: WMI's root, the namespaces most products and attackers use.
TYPICAL_NAMESPACES = ["root", "root\\cimv2", "root\\default", "root\\subscription", "root\\wmi", "root\\StandardCimv2"]
UNSECAPP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"

# Keys of latest.json, documented (the smoke test checks they are all present).
SUMMARY_KEYS = (
    "audit_round_trips_per_host",
    "harden_round_trips_per_host",
    "rerun_round_trips_per_host",
    "typical_round_trips_per_host",
    "audit_winrm_requests_per_host",
    "audit_bytes_per_host",
    "ratio_vs_typical",
    "baseline_vs_win_ping",
    "controller_cpu_seconds_per_host",
    "report_render",
)


def typical_play() -> list[dict[str, t.Any]]:
    tasks: list[dict[str, t.Any]] = [
        {
            "name": "Read UnsecAppAccessControlDefault",
            "ansible.windows.win_reg_stat": {"path": UNSECAPP_KEY, "name": "UnsecAppAccessControlDefault"},
            "register": "unsecapp",
        }
    ]
    for namespace in TYPICAL_NAMESPACES:
        tasks.append(
            {
                "name": f"Read the security descriptor of {namespace}",
                "winsec.wmi.namespace_sd_info": {"namespaces": [namespace], "recurse": False},
                "register": f"sd_{namespace.replace(chr(92), '_').lower()}",
            }
        )
    return [{"name": "Typical WMI audit", "hosts": "all", "gather_facts": True, "tasks": tasks}]


def one_task_play(name: str, module: str, args: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    return [
        {
            "name": name,
            "hosts": "all",
            "gather_facts": False,
            "check_mode": True,
            "tasks": [{"name": name, module: args}],
        }
    ]


PLAYS: dict[str, list[dict[str, t.Any]]] = {
    "typical": typical_play(),
    "baseline": one_task_play("baseline", "winsec.wmi.baseline", {"mode": "audit"}),
    "win_ping": one_task_play("win_ping", "ansible.windows.win_ping", {}),
}


class Bench:
    def __init__(self, workdir: Path, latency: float) -> None:
        self.workdir = workdir
        self.latency = latency
        self.playbooks: dict[str, Path] = {
            "audit": REPO_ROOT / "playbooks" / "audit.yml",
            "audit_evidence": REPO_ROOT / "playbooks" / "audit.yml",
            "harden": REPO_ROOT / "playbooks" / "harden.yml",
            "rerun": REPO_ROOT / "playbooks" / "harden.yml",
        }
        for name, play in PLAYS.items():
            path = workdir / f"{name}.yml"
            path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
            self.playbooks[name] = path

    def start_fleet(self, hosts: int, *, latency: float | None = None, name: str = "") -> Fleet:
        """Generated 2019 hosts with one drift harden fixes (UnsecAppAccessControlDefault 0) and the latency."""
        latency = self.latency if latency is None else latency
        fleet_file = self.workdir / f"fleet-{hosts}{name}.yml"
        spec: dict[str, t.Any] = {"name": "bench{index:04d}", "count": hosts, "profile": "2019", "unsecapp": 0}
        if latency > 0:
            spec["faults"] = {"latency": latency}
        fleet_file.write_text(yaml.safe_dump({"hosts": [spec]}), encoding="utf-8")
        return Fleet(fleet_file, self.workdir / f"sim-{hosts}{name}")

    def run(
        self, fleet: Fleet, kind: str, forks: int, *, profile_dir: Path | None = None, limit: str | None = None
    ) -> dict[str, t.Any]:
        """One ansible-playbook run of ``kind``; wall, CPU and the simulator's counters per host."""
        run_dir = fleet.workdir / f"{kind}-{forks}-{time.monotonic_ns()}"
        run_dir.mkdir(parents=True)
        env = ansible_env(fleet, run_dir / "results.jsonl")
        # No result-recording callback: the run costs what a user's run costs. Success is read from the recap.
        for key in ("ANSIBLE_CALLBACKS_ENABLED", "WINSEC_SIM_RESULTS"):
            env.pop(key, None)
        command = [str(ANSIBLE_PLAYBOOK), "-i", str(fleet.inventory), "-f", str(forks), str(self.playbooks[kind])]
        if kind.startswith("audit"):
            extra = {"wmi_hardening_report_dir": str(run_dir / "report"), "wmi_hardening_evidence": kind != "audit"}
            command += ["-e", json.dumps(extra)]
        if limit:
            command += ["--limit", limit]
        if profile_dir is not None:
            env["WINSEC_BENCH_PROFILE_DIR"] = str(profile_dir)
            command = [sys.executable, str(PROFILER), *command[1:]]
        fleet.reset_counters()
        sim_cpu_before = process_cpu(fleet.process.pid)
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        with (run_dir / "stdout.txt").open("w") as stdout:
            completed = subprocess.run(command, cwd=run_dir, env=env, stdout=stdout, stderr=subprocess.STDOUT)
        wall = time.monotonic() - started
        usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sim_cpu = process_cpu(fleet.process.pid) - sim_cpu_before
        counters = fleet.all_counters()
        output = (run_dir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
        recap = output[output.rfind("PLAY RECAP") :]
        if completed.returncode != 0 or " failed=0" not in recap or "unreachable=0" not in recap:
            raise RuntimeError(f"{kind} run failed (rc {completed.returncode}):\n{output[-3000:]}")
        hosts = [h for h in fleet.hosts if counters[h]["requests"]]
        if limit is None and len(hosts) != len(fleet.hosts):
            raise RuntimeError(f"{kind}: only {len(hosts)} of {len(fleet.hosts)} hosts were contacted")
        count = len(hosts)
        round_trips = [counters[h]["round_trips"] for h in hosts]
        cpu = (usage_after.ru_utime - usage_before.ru_utime) + (usage_after.ru_stime - usage_before.ru_stime)
        return {
            "kind": kind,
            "hosts": count,
            "forks": forks,
            "wall_seconds": round(wall, 2),
            "hosts_per_minute": round(60 * count / wall, 1),
            "controller_cpu_seconds": round(cpu, 2),
            "controller_cpu_seconds_per_host": round(cpu / count, 4),
            "simulator_cpu_seconds_per_host": round(sim_cpu / count, 4),
            "round_trips_per_host_max": max(round_trips),
            "round_trips_per_host_min": min(round_trips),
            "winrm_requests_per_host": round(sum(counters[h]["requests"] for h in hosts) / count, 2),
            "bytes_to_host_per_host": round(sum(counters[h]["bytes_received"] for h in hosts) / count),
            "bytes_from_host_per_host": round(sum(counters[h]["bytes_sent"] for h in hosts) / count),
            "writes_per_host": round(sum(counters[h]["writes"] for h in hosts) / count, 2),
        }


def process_cpu(pid: int) -> float:
    """User + system seconds of a running process (the simulator is not a reaped child until it stops)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def describe(run: dict[str, t.Any]) -> str:
    return (
        f"{run['kind']:8} hosts={run['hosts']:4} forks={run['forks']:3} wall={run['wall_seconds']:7.2f}s "
        f"cpu/host={run['controller_cpu_seconds_per_host']:.3f}s rt/host={run['round_trips_per_host_max']} "
        f"req/host={run['winrm_requests_per_host']} bytes/host={run['bytes_to_host_per_host']}+"
        f"{run['bytes_from_host_per_host']}"
    )


def median_run(runs: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """The run with the median wall time (its other figures come with it)."""
    return sorted(runs, key=lambda r: r["wall_seconds"])[len(runs) // 2]


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


def comparison(audit: dict[str, t.Any], typical: dict[str, t.Any]) -> dict[str, t.Any]:
    """One configuration's audit against the typical playbook, on the same fleet in the same run."""
    return {
        "hosts": audit["hosts"],
        "forks": audit["forks"],
        "audit_wall_seconds": audit["wall_seconds"],
        "typical_wall_seconds": typical["wall_seconds"],
        "ratio_vs_typical": ratio(typical["wall_seconds"], audit["wall_seconds"]),
        "audit_controller_cpu_seconds_per_host": audit["controller_cpu_seconds_per_host"],
        "typical_controller_cpu_seconds_per_host": typical["controller_cpu_seconds_per_host"],
    }


# --- profile attribution ------------------------------------------------------------------------------------------

# First match wins; paths are matched on the profiled function's file name.
COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sd_codec", ("/winsec/wmi/plugins/plugin_utils/_sd", "/winsec/wmi/plugins/plugin_utils/_sddl")),
    ("action_plugin", ("/winsec/wmi/plugins/",)),
    ("templating", ("/ansible/template/", "/ansible/_internal/_templating/", "/jinja2/")),
    (
        "payload_build",
        ("/ansible/executor/powershell/", "/ansible/executor/module_common.py", "/ansible/_internal/_powershell"),
    ),
    (
        "connection",
        (
            "/ansible/plugins/connection/",
            "/winrm/",
            "/requests/",
            "/urllib3/",
            "/http/client.py",
            "/xmltodict.py",
            "/socket.py",
            "/ssl.py",
            "/selectors.py",
        ),
    ),
    ("imports_and_startup", ("<frozen importlib", "/importlib/", "/ansible/cli/", "/ansible/plugins/loader.py")),
    ("yaml_and_json", ("/yaml/", "/json/", "/ansible/parsing/")),
    ("callbacks_and_display", ("/ansible/plugins/callback/", "/ansible/utils/display.py")),
    # The rest of ansible-core: strategy and results loop, variables, task executor, forking and polling workers.
    ("ansible_task_engine", ("/ansible/", "/multiprocessing/")),
)


def component_of(filename: str) -> str | None:
    for component, patterns in COMPONENTS:
        if any(pattern in filename for pattern in patterns):
            return component
    return None


def attribute_profile(profile_dir: Path) -> dict[str, t.Any]:
    """Split self time of every profiled ansible process by component.

    Self time (tottime) does not overlap, so the parts add up to the total. Time spent in C functions (``~``:
    json encoding, zlib, socket calls) goes to the component of the Python function that called them, in
    proportion to what each caller spent there.
    """
    import pstats

    files = sorted(profile_dir.glob("*.prof"))
    if not files:
        return {}
    stats = pstats.Stats(str(files[0]))
    for extra in files[1:]:
        try:
            stats.add(str(extra))
        except (EOFError, ValueError):  # a worker killed while writing: leave it out, say so
            files.remove(extra)
    raw = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}

    def add(component: str, seconds: float) -> None:
        totals[component] = totals.get(component, 0.0) + seconds

    def resolve(func: tuple[str, int, str], depth: int = 0) -> dict[str, float]:
        """Component shares of a C function's time, by its callers."""
        component = component_of(func[0])
        if component is not None:
            return {component: 1.0}
        callers = raw[func][4] if func in raw else {}
        if not callers or depth > 3:
            return {"other_python": 1.0}
        weights: dict[str, float] = {}
        spent = sum(value[2] for value in callers.values()) or 1.0
        for caller, value in callers.items():
            for name, share in resolve(caller, depth + 1).items():
                weights[name] = weights.get(name, 0.0) + share * value[2] / spent
        return weights

    for func, (_cc, _nc, tottime, _ct, _callers) in raw.items():
        for component, share in resolve(func).items():
            add(component, tottime * share)
    total = sum(totals.values())
    return {
        "profiled_processes": len(files),
        "profiled_seconds": round(total, 2),
        "share": {k: round(v / total, 3) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
        "seconds": {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
    }


# --- main ---------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200], help="fleet sizes (default: 50 200)")
    parser.add_argument("--forks", type=int, nargs="+", default=[25, 50], help="fork counts (default: 25 50)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds each WinRM request waits (default 0.05)")
    parser.add_argument("--repeats", type=int, default=1, help="audit/typical pairs per configuration (median)")
    parser.add_argument(
        "--scaling-forks",
        type=int,
        nargs="*",
        default=[10, 25, 50, 100],
        help="fork counts of the audit's scaling (default: 10 25 50 100; the matrix's runs are reused; none: skip)",
    )
    parser.add_argument("--scaling-hosts", type=int, default=200, help="fleet size of the scaling run")
    parser.add_argument("--profile-hosts", type=int, default=10, help="hosts of the cProfile run (0: skip)")
    parser.add_argument("--no-report", action="store_true", help="skip benchmarks/report_render.py")
    parser.add_argument("--report-hosts", type=int, default=10000)
    parser.add_argument(
        "--quick", action="store_true", help="5 hosts, forks 5, no scaling, profile or report run (sanity check)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the whole matrix: 50, 200 and 500 hosts, scaling with forks 5 10 25 50 100 (about 20 minutes here)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where latest.json and latest.md go")
    options = parser.parse_args(argv)
    if options.full:
        options.sizes, options.scaling_forks = [50, 200, 500], [5, 10, 25, 50, 100]
    if options.quick:
        options.sizes, options.forks, options.scaling_forks = [5], [5], []
        options.profile_hosts, options.no_report = 0, True

    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    begun = time.monotonic()
    runs: list[dict[str, t.Any]] = []
    configurations: list[dict[str, t.Any]] = []
    audits: dict[tuple[int, int], dict[str, t.Any]] = {}
    result: dict[str, t.Any] = {}
    with tempfile.TemporaryDirectory(prefix="winsec-bench-") as tmp:
        bench = Bench(Path(tmp), options.latency)
        for size in options.sizes:
            fleet = bench.start_fleet(size)
            try:
                log(f"fleet of {size} hosts up ({options.latency * 1000:.0f} ms per request)")
                for forks in options.forks:
                    pairs: dict[str, list[dict[str, t.Any]]] = {"audit": [], "typical": []}
                    for _ in range(options.repeats):
                        for kind in ("audit", "typical"):
                            run = bench.run(fleet, kind, forks)
                            pairs[kind].append(run)
                            runs.append(run)
                            log(describe(run))
                    audit, typical = median_run(pairs["audit"]), median_run(pairs["typical"])
                    audits[(size, forks)] = audit
                    if forks != max(options.forks):
                        configurations.append(comparison(audit, typical))
                        continue
                    # The floor of a module call, on the same hosts: once per fleet, at the largest fork count.
                    floor: dict[str, dict[str, t.Any]] = {}
                    for kind in ("baseline", "win_ping"):
                        floor[kind] = bench.run(fleet, kind, forks)
                        runs.append(floor[kind])
                        log(describe(floor[kind]))
                    configurations.append(
                        {
                            **comparison(audit, typical),
                            "baseline_wall_seconds": floor["baseline"]["wall_seconds"],
                            "win_ping_wall_seconds": floor["win_ping"]["wall_seconds"],
                            # The module alone (one task, no role around it) against the same typical playbook.
                            "baseline_task_ratio_vs_typical": ratio(
                                typical["wall_seconds"], floor["baseline"]["wall_seconds"]
                            ),
                            "baseline_vs_win_ping_wall": ratio(
                                floor["baseline"]["wall_seconds"], floor["win_ping"]["wall_seconds"]
                            ),
                            "baseline_vs_win_ping_cpu": ratio(
                                floor["baseline"]["controller_cpu_seconds"], floor["win_ping"]["controller_cpu_seconds"]
                            ),
                        }
                    )
                if size == options.sizes[0]:
                    # Every namespace's SDDL and ACEs in words in the result: computed on the controller from the
                    # same descriptor bytes, so the wire must carry exactly what the plain audit carries.
                    run = bench.run(fleet, "audit_evidence", max(options.forks))
                    runs.append(run)
                    log(describe(run))
                for kind in ("harden", "rerun"):
                    run = bench.run(fleet, kind, max(options.forks))
                    runs.append(run)
                    log(describe(run))
            finally:
                fleet.stop()

        scaling: list[dict[str, t.Any]] = []
        missing = [f for f in options.scaling_forks if (options.scaling_hosts, f) not in audits]
        if missing:
            fleet = bench.start_fleet(options.scaling_hosts, name="-scaling")
            try:
                for forks in missing:
                    audits[(options.scaling_hosts, forks)] = bench.run(fleet, "audit", forks)
                    runs.append(audits[(options.scaling_hosts, forks)])
                    log(describe(audits[(options.scaling_hosts, forks)]))
            finally:
                fleet.stop()
        for forks in options.scaling_forks:
            run = audits[(options.scaling_hosts, forks)]
            scaling.append(
                {
                    "forks": forks,
                    "hosts": run["hosts"],
                    "wall_seconds": run["wall_seconds"],
                    "hosts_per_minute": run["hosts_per_minute"],
                    "controller_cpu_seconds_per_host": run["controller_cpu_seconds_per_host"],
                }
            )

        profile: dict[str, t.Any] = {}
        if options.profile_hosts:
            # CPU is what a profile measures: no latency, so forks 1 does not spend the run waiting.
            fleet = bench.start_fleet(options.profile_hosts, latency=0.0, name="-profile")
            try:
                for kind in ("audit", "baseline", "typical"):
                    profile_dir = Path(tmp) / f"profile-{kind}"
                    profile_dir.mkdir()
                    run = bench.run(fleet, kind, 1, profile_dir=profile_dir)
                    log(f"profiled {describe(run)}")
                    profile[kind] = attribute_profile(profile_dir)
                    log(f"  {kind}: {profile[kind].get('share')}")
            finally:
                fleet.stop()

    report: dict[str, t.Any] = {}
    if not options.no_report:
        with tempfile.TemporaryDirectory(prefix="winsec-bench-report-") as tmp:
            out = Path(tmp) / "report_render.json"
            subprocess.run(
                [
                    sys.executable,
                    str(REPORT_RENDER),
                    "--hosts",
                    str(options.report_hosts),
                    "--controls",
                    "10",
                    "--json",
                    str(out),
                ],
                check=True,
                cwd=REPO_ROOT,
            )
            report = json.loads(out.read_text())

    def of(kind: str) -> list[dict[str, t.Any]]:
        return [r for r in runs if r["kind"] == kind]

    def worst(kind: str, key: str) -> t.Any:
        return max(r[key] for r in of(kind))

    headline = max(configurations, key=lambda c: (c["hosts"] == 200, c["forks"] == 50, c["hosts"], c["forks"]))
    # Of the same fleet size, the configuration that also ran baseline and win_ping (the largest fork count).
    floor_at = max(
        (c for c in configurations if "baseline_vs_win_ping_wall" in c),
        key=lambda c: (c["hosts"] == headline["hosts"], c["hosts"], c["forks"]),
    )
    result = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {
            "latency_seconds_per_request": options.latency,
            "sizes": options.sizes,
            "forks": options.forks,
            "repeats": options.repeats,
            "full": options.full,
            "quick": options.quick,
            "profile": "2019",
            "typical_namespaces": TYPICAL_NAMESPACES,
        },
        "duration_seconds": round(time.monotonic() - begun, 1),
        # Worst host over every run of the kind: the targets say "exactly 1", "at most 2", "1".
        "audit_round_trips_per_host": worst("audit", "round_trips_per_host_max"),
        "harden_round_trips_per_host": worst("harden", "round_trips_per_host_max"),
        "rerun_round_trips_per_host": worst("rerun", "round_trips_per_host_max"),
        "typical_round_trips_per_host": worst("typical", "round_trips_per_host_max"),
        "audit_winrm_requests_per_host": worst("audit", "winrm_requests_per_host"),
        "typical_winrm_requests_per_host": worst("typical", "winrm_requests_per_host"),
        "harden_winrm_requests_per_host": worst("harden", "winrm_requests_per_host"),
        "rerun_winrm_requests_per_host": worst("rerun", "winrm_requests_per_host"),
        "audit_bytes_per_host": {
            "to_host": worst("audit", "bytes_to_host_per_host"),
            "from_host": worst("audit", "bytes_from_host_per_host"),
        },
        "typical_bytes_per_host": {
            "to_host": worst("typical", "bytes_to_host_per_host"),
            "from_host": worst("typical", "bytes_from_host_per_host"),
        },
        "harden_bytes_per_host": {
            "to_host": worst("harden", "bytes_to_host_per_host"),
            "from_host": worst("harden", "bytes_from_host_per_host"),
        },
        "rerun_bytes_per_host": {
            "to_host": worst("rerun", "bytes_to_host_per_host"),
            "from_host": worst("rerun", "bytes_from_host_per_host"),
        },
        "audit_bytes_with_evidence_per_host": {
            "to_host": worst("audit_evidence", "bytes_to_host_per_host"),
            "from_host": worst("audit_evidence", "bytes_from_host_per_host"),
        },
        "ratio_vs_typical": headline["ratio_vs_typical"],
        "ratio_vs_typical_configuration": {"hosts": headline["hosts"], "forks": headline["forks"]},
        "baseline_vs_win_ping": {
            "hosts": floor_at["hosts"],
            "forks": floor_at["forks"],
            "wall": floor_at["baseline_vs_win_ping_wall"],
            "controller_cpu": floor_at["baseline_vs_win_ping_cpu"],
        },
        "controller_cpu_seconds_per_host": {
            kind: round(statistics.median(r["controller_cpu_seconds_per_host"] for r in of(kind)), 4)
            for kind in ("audit", "typical", "baseline", "win_ping", "harden", "rerun")
        },
        "simulator_cpu_seconds_per_host": {
            kind: round(statistics.median(r["simulator_cpu_seconds_per_host"] for r in of(kind)), 4)
            for kind in ("audit", "typical", "baseline", "win_ping")
        },
        "controller_cpu_split": profile,
        "configurations": configurations,
        "fork_scaling": scaling,
        "report_render": report,
        "runs": runs,
    }
    missing = [key for key in SUMMARY_KEYS if key not in result]
    assert not missing, missing
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "latest.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (options.out / "latest.md").write_text(markdown(result), encoding="utf-8")
    log(f"wrote {options.out / 'latest.json'} and latest.md in {result['duration_seconds']} s")
    return 0


def markdown(result: dict[str, t.Any]) -> str:
    settings = result["settings"]
    lines = [
        "# winsec.wmi fleet benchmark",
        "",
        f"Generated {result['generated_at']} in {result['duration_seconds'] / 60:.0f} minutes by "
        f"`make bench{' BENCH_ARGS=--full' if settings.get('full') else ''}` (benchmarks/fleet_audit.py) on "
        f"{result['machine']['cpus']}"
        f" CPUs, Python {result['machine']['python']}; simulated Windows Server {settings['profile']} hosts, "
        f"{settings['latency_seconds_per_request'] * 1000:.0f} ms per WinRM request. The controller and the simulator "
        "share the machine.",
        "",
        "| per host | audit | harden | re-run | typical playbook |",
        "|---|---|---|---|---|",
        f"| round trips (max) | {result['audit_round_trips_per_host']} | {result['harden_round_trips_per_host']} | "
        f"{result['rerun_round_trips_per_host']} | {result['typical_round_trips_per_host']} |",
        f"| WinRM requests | {result['audit_winrm_requests_per_host']} | {result['harden_winrm_requests_per_host']} "
        f"| {result['rerun_winrm_requests_per_host']} | {result['typical_winrm_requests_per_host']} |",
    ]
    kinds = ("audit", "harden", "rerun", "typical")
    bytes_row = " | ".join(
        f"{result[f'{k}_bytes_per_host']['to_host'] / 1024:.0f} KB / "
        f"{result[f'{k}_bytes_per_host']['from_host'] / 1024:.1f} KB"
        for k in kinds
    )
    cpu = result["controller_cpu_seconds_per_host"]
    lines += [
        f"| bytes to / from host | {bytes_row} |",
        f"| controller CPU s | {cpu['audit']:.3f} | {cpu['harden']:.3f} | {cpu['rerun']:.3f} | {cpu['typical']:.3f} |",
        "",
        f"Asking for the full evidence (every SDDL and ACE in words) moves "
        f"{result['audit_bytes_with_evidence_per_host']['from_host'] - result['audit_bytes_per_host']['from_host']} "
        "bytes more per host: it is computed on the controller.",
        "",
        "| hosts | forks | audit s | typical s | typical / audit | baseline task alone: typical / baseline "
        "| baseline / win_ping (wall, CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in result["configurations"]:
        lines.append(
            f"| {c['hosts']} | {c['forks']} | {c['audit_wall_seconds']:.1f} | {c['typical_wall_seconds']:.1f} | "
            f"**{c['ratio_vs_typical']:.1f}x** | "
            + (f"{c['baseline_task_ratio_vs_typical']:.1f}x | " if "baseline_task_ratio_vs_typical" in c else "- | ")
            + (
                f"{c['baseline_vs_win_ping_wall']:.2f}, {c['baseline_vs_win_ping_cpu']:.2f} |"
                if "baseline_vs_win_ping_wall" in c
                else "- |"
            )
        )
    if result["fork_scaling"]:
        lines += ["", "Audit scaling with forks (one controller):", "", "| forks | hosts | wall s | hosts/minute |"]
        lines.append("|---|---|---|---|")
        for s in result["fork_scaling"]:
            lines.append(f"| {s['forks']} | {s['hosts']} | {s['wall_seconds']:.1f} | {s['hosts_per_minute']:.0f} |")
    split = result["controller_cpu_split"]
    if split:
        lines += ["", "Controller time by component (cProfile, forks 1, self time incl. the C calls each makes):", ""]
        split_kinds = ("audit", "baseline", "typical")
        lines += ["| component | audit (role) | baseline task | typical playbook |", "|---|---|---|---|"]
        names = {name for kind in split_kinds for name in split.get(kind, {}).get("share", {})}
        for name in sorted(names, key=lambda n: -split.get("audit", {}).get("share", {}).get(n, 0)):
            cells = [f"{split.get(k, {}).get('share', {}).get(name, 0) * 100:.0f} %" for k in split_kinds]
            lines.append(f"| {name} | {' | '.join(cells)} |")
    report = result["report_render"]
    if report:
        lines += [
            "",
            f"Report rendering, {report['hosts']:,} hosts x {report['controls']} controls "
            f"(benchmarks/report_render.py; peak = Python allocations, tracemalloc): "
            f"**{report['total_seconds']:.1f} s** for every format.",
            "",
            "| step | seconds | peak MiB | output MiB |",
            "|---|---|---|---|",
        ]
        for row in report["rows"]:
            lines.append(f"| {row['step']} | {row['seconds']:.2f} | {row['peak_mib']:.0f} | {row['output_mib']:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
