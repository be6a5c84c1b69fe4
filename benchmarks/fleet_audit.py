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
    .venv/2.19/bin/python benchmarks/fleet_audit.py --quick         # 2 hosts, forks 2: a sanity run

Real hosts also spend time on every module run before the module does anything: powershell.exe and ansible-core's
exec wrapper start. Over WinRM that start-up was measured at about 6 s per task on Windows images whose .NET
assemblies were not precompiled and "low hundreds of milliseconds" once they were (ansible/ansible PR #58259, the
origin of the "Windows performance" page of Ansible's documentation; the same figures, 6 s -> ~200 ms, in
GoogleCloudPlatform/compute-image-windows PR #174). ``--host-costs`` sweeps that per-module-run host time (the
simulator's ``module_start_seconds``; default 0, 0.3 and 1.0 s) and measures, per point, the whole audit play, the
typical playbook, the baseline task alone and a one-task win_ping play as medians of ``--sweep-repeats``
interleaved repeats, with the machine's load average beside each run. Two points are the targets: controller-bound
(``--controller-hosts`` 200, 50 ms per request, forks 50, no host cost: ``audit_play_vs_typical``) and host-bound
(``--host-bound-hosts`` 100, forks 10, 1.0 s per module run: ``audit_play_vs_win_ping_play_host_bound``). The fewer
round trips a play makes, the less a host's start-up costs it.

    .venv/2.19/bin/python benchmarks/fleet_audit.py --sweep-only --controller-hosts 40 --host-bound-hosts 20
                                                                    # the sweep alone, reduced (a loaded machine)

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
    "audit_play_vs_typical",
    "audit_play_vs_win_ping_play_host_bound",
    "baseline_task_vs_win_ping",
    "per_host_tasks",
    "host_cost_sweep",
)
# Each run of the sweep: the shipped audit play, the typical playbook, the baseline task alone, one win_ping task.
SWEEP_KINDS = ("audit", "typical", "baseline", "win_ping")


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

    def start_fleet(self, hosts: int, *, latency: float | None = None, name: str = "", host_cost: float = 0.0) -> Fleet:
        """Generated 2019 hosts with one drift harden fixes (UnsecAppAccessControlDefault 0), the latency and the
        host's own time per module run (``host_cost``: PowerShell and the exec wrapper starting)."""
        latency = self.latency if latency is None else latency
        fleet_file = self.workdir / f"fleet-{hosts}{name}.yml"
        spec: dict[str, t.Any] = {"name": "bench{index:04d}", "count": hosts, "profile": "2019", "unsecapp": 0}
        faults: dict[str, float] = {}
        if latency > 0:
            faults["latency"] = latency
        if host_cost > 0:
            faults["module_start_seconds"] = host_cost
        if faults:
            spec["faults"] = faults
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
        load = os.getloadavg()[0]
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
            "per_host_tasks": per_host_tasks(recap),
            "load_average_1min": round(load, 2),
        }


def per_host_tasks(recap: str) -> int:
    """Tasks the play ran on every host: the fewest task results of any host in the recap (run_once work lands on
    one host only, so the minimum is what every host costs)."""
    counts = []
    for line in recap.splitlines()[1:]:
        if " : " not in line:
            continue
        fields = dict(item.split("=") for item in line.split(" : ", 1)[1].split())
        counts.append(sum(int(fields.get(key, 0)) for key in ("ok", "failed", "skipped", "unreachable")))
    return min(counts) if counts else 0


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


# --- per-module-run host time ------------------------------------------------------------------------------------

HOST_COST_ANCHOR = (
    "Per-task PowerShell start-up over WinRM: about 6 s on images whose .NET assemblies were not precompiled, "
    "'low hundreds of milliseconds' once they were (ansible/ansible PR #58259, origin of the 'Windows performance' "
    "page of Ansible's documentation; GoogleCloudPlatform/compute-image-windows PR #174: 6 s -> ~200 ms). 0.3 s is "
    "a healthy host, 1.0 s a busy or modest one."
)


def sweep_point(
    bench: Bench, *, hosts: int, forks: int, host_cost: float, repeats: int, latency: float
) -> dict[str, t.Any]:
    """The four plays on one fleet, ``repeats`` times interleaved (audit, typical, baseline, win_ping, audit, ...), so
    a change in the machine's load touches them alike; medians of wall time, the load beside each run."""
    fleet = bench.start_fleet(hosts, latency=latency, host_cost=host_cost, name=f"-sweep-{host_cost}-{forks}")
    by_kind: dict[str, list[dict[str, t.Any]]] = {kind: [] for kind in SWEEP_KINDS}
    try:
        log(f"sweep: {hosts} hosts, forks {forks}, {latency * 1000:.0f} ms per request, {host_cost} s per module run")
        for _ in range(repeats):
            for kind in SWEEP_KINDS:
                run = bench.run(fleet, kind, forks)
                by_kind[kind].append(run)
                log(f"  {describe(run)} load={run['load_average_1min']}")
    finally:
        fleet.stop()
    wall = {kind: round(statistics.median(r["wall_seconds"] for r in runs), 2) for kind, runs in by_kind.items()}
    return {
        "hosts": hosts,
        "forks": forks,
        "latency_seconds_per_request": latency,
        "host_cost_seconds_per_module_run": host_cost,
        "repeats": repeats,
        "wall_seconds_median": wall,
        "wall_seconds_each": {kind: [r["wall_seconds"] for r in runs] for kind, runs in by_kind.items()},
        # CPU of ansible-playbook and its workers per host: what the controller spends, steadier than wall time on a
        # machine whose load changes during the run (the load shifts wall time, much less CPU time).
        "controller_cpu_seconds_per_host_median": {
            kind: round(statistics.median(r["controller_cpu_seconds_per_host"] for r in runs), 4)
            for kind, runs in by_kind.items()
        },
        "load_average_1min_each": {kind: [r["load_average_1min"] for r in runs] for kind, runs in by_kind.items()},
        "per_host_tasks": {kind: runs[0]["per_host_tasks"] for kind, runs in by_kind.items()},
        "round_trips_per_host": {kind: runs[0]["round_trips_per_host_max"] for kind, runs in by_kind.items()},
        "audit_play_vs_typical": ratio(wall["typical"], wall["audit"]),
        "audit_play_vs_win_ping_play": ratio(wall["audit"], wall["win_ping"]),
        "baseline_task_vs_win_ping": ratio(wall["baseline"], wall["win_ping"]),
        "baseline_task_vs_typical": ratio(wall["typical"], wall["baseline"]),
        "audit_play_vs_typical_controller_cpu": ratio(
            statistics.median(r["controller_cpu_seconds_per_host"] for r in by_kind["typical"]),
            statistics.median(r["controller_cpu_seconds_per_host"] for r in by_kind["audit"]),
        ),
    }


def host_cost_sweep(bench: Bench, options: argparse.Namespace) -> dict[str, t.Any]:
    """The controller-bound target point, then the host-cost sweep at the host-bound fleet size and forks."""
    controller = sweep_point(
        bench,
        hosts=options.controller_hosts,
        forks=options.controller_forks,
        host_cost=0.0,
        repeats=options.sweep_repeats,
        latency=options.latency,
    )
    points = [
        sweep_point(
            bench,
            hosts=options.host_bound_hosts,
            forks=options.host_bound_forks,
            host_cost=cost,
            repeats=options.sweep_repeats,
            latency=options.latency,
        )
        for cost in options.host_costs
    ]
    host_bound = max(
        points, key=lambda p: (p["host_cost_seconds_per_module_run"] == 1.0, p["host_cost_seconds_per_module_run"])
    )
    return {
        "audit_play_vs_typical": controller["audit_play_vs_typical"],
        "audit_play_vs_win_ping_play_host_bound": host_bound["audit_play_vs_win_ping_play"],
        "baseline_task_vs_win_ping": controller["baseline_task_vs_win_ping"],
        "per_host_tasks": controller["per_host_tasks"],
        "host_cost_sweep": {
            "anchor": HOST_COST_ANCHOR,
            "controller_bound": controller,
            "host_bound_point": {
                "hosts": host_bound["hosts"],
                "forks": host_bound["forks"],
                "host_cost_seconds_per_module_run": host_bound["host_cost_seconds_per_module_run"],
            },
            "points": points,
        },
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
        "--quick", action="store_true", help="2 hosts, forks 2, no scaling, profile or report run (sanity check)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="the whole matrix: 50, 200 and 500 hosts, scaling with forks 5 10 25 50 100 (about 20 minutes here)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where latest.json and latest.md go")
    parser.add_argument(
        "--host-costs",
        type=float,
        nargs="*",
        default=[0.0, 0.3, 1.0],
        help="seconds a host spends per module run before the module works (PowerShell + exec wrapper start-up); "
        "swept at the host-bound size (default: 0 0.3 1.0; none: no sweep)",
    )
    parser.add_argument("--sweep-repeats", type=int, default=3, help="interleaved repeats per sweep point (median)")
    parser.add_argument("--controller-hosts", type=int, default=200, help="hosts of the controller-bound point")
    parser.add_argument("--controller-forks", type=int, default=50, help="forks of the controller-bound point")
    parser.add_argument("--host-bound-hosts", type=int, default=100, help="hosts of the host-cost sweep")
    parser.add_argument("--host-bound-forks", type=int, default=10, help="forks of the host-cost sweep")
    parser.add_argument(
        "--sweep-only",
        action="store_true",
        help="run only the host-cost sweep and update its keys in the existing latest.json (and latest.md)",
    )
    parser.add_argument(
        "--controller-only",
        action="store_true",
        help="run only the controller-bound point of the sweep (about 7 minutes here) and update its keys in the "
        "existing latest.json; the host-bound points stored there are kept, and the note says so",
    )
    options = parser.parse_args(argv)
    if options.full:
        options.sizes, options.scaling_forks = [50, 200, 500], [5, 10, 25, 50, 100]
    if options.quick:
        # Two hosts at forks 2: still parallel workers, and every run kind once; each run costs little more than
        # ansible-playbook's own start-up (tests/e2e/test_bench_smoke.py runs this on every ansible-core).
        options.sizes, options.forks, options.scaling_forks = [2], [2], []
        options.profile_hosts, options.no_report = 0, True
        options.controller_hosts = options.host_bound_hosts = 2
        options.controller_forks = options.host_bound_forks = 2
        options.host_costs, options.sweep_repeats = [0.3], 1
    if options.controller_only:
        return controller_only(options)
    if options.sweep_only:
        return sweep_only(options)

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

        sweep = host_cost_sweep(bench, options) if options.host_costs else {}

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
        **sweep,
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


def sweep_only(options: argparse.Namespace) -> int:
    """The host-cost sweep alone; its keys replace those of the existing latest.json (the rest is kept)."""
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    begun = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="winsec-bench-") as tmp:
        sweep = host_cost_sweep(Bench(Path(tmp), options.latency), options)
    latest = options.out / "latest.json"
    result = json.loads(latest.read_text(encoding="utf-8")) if latest.exists() else {}
    result.update(sweep)
    result["host_cost_sweep"]["generated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["host_cost_sweep"]["duration_seconds"] = round(time.monotonic() - begun, 1)
    options.out.mkdir(parents=True, exist_ok=True)
    latest.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    markdown_file = options.out / "latest.md"
    text = markdown(result) if all(key in result for key in SUMMARY_KEYS) else sweep_markdown(result)
    markdown_file.write_text(text, encoding="utf-8")
    log(f"wrote the sweep into {latest} in {result['host_cost_sweep']['duration_seconds']} s")
    return 0


def controller_only(options: argparse.Namespace) -> int:
    """The controller-bound point alone; it replaces that point and its ratios in the existing latest.json, whose
    host-bound points (and everything else) are kept as they were measured, and the sweep's note says which is
    which."""
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    latest = options.out / "latest.json"
    result = json.loads(latest.read_text(encoding="utf-8")) if latest.exists() else {}
    sweep = result.get("host_cost_sweep")
    if not sweep or not sweep.get("points"):
        raise SystemExit(f"{latest} has no host-cost sweep to keep: run --sweep-only first")
    begun = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="winsec-bench-") as tmp:
        controller = sweep_point(
            Bench(Path(tmp), options.latency),
            hosts=options.controller_hosts,
            forks=options.controller_forks,
            host_cost=0.0,
            repeats=options.sweep_repeats,
            latency=options.latency,
        )
    measured_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    previous = sweep["controller_bound"]
    sweep["controller_bound"] = {**controller, "generated_at": measured_at}
    result["audit_play_vs_typical"] = controller["audit_play_vs_typical"]
    result["baseline_task_vs_win_ping"] = controller["baseline_task_vs_win_ping"]
    result["per_host_tasks"] = controller["per_host_tasks"]
    sweep["note"] = (
        f"The controller-bound point was re-measured alone at {measured_at} (--controller-only, "
        f"{round(time.monotonic() - begun)} s; before: audit play {previous['audit_play_vs_typical']}x the typical "
        f"playbook). The host-bound points are those of the sweep of {sweep.get('generated_at', 'an earlier run')}."
    )
    latest.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = markdown(result) if all(key in result for key in SUMMARY_KEYS) else sweep_markdown(result)
    (options.out / "latest.md").write_text(text, encoding="utf-8")
    log(f"wrote the controller-bound point into {latest}: audit play {controller['audit_play_vs_typical']}x")
    return 0


def sweep_markdown(result: dict[str, t.Any]) -> str:
    sweep = result.get("host_cost_sweep")
    if not sweep:
        return ""
    controller = sweep["controller_bound"]
    lines = [
        "",
        "## Per-module-run host time (PowerShell and exec-wrapper start-up)",
        "",
        sweep["anchor"],
        "",
        *([sweep["note"], ""] if sweep.get("note") else []),
        f"Controller-bound ({controller['hosts']} hosts, forks {controller['forks']}, "
        f"{controller['latency_seconds_per_request'] * 1000:.0f} ms per request, no host time): the whole audit play "
        f"is **{result['audit_play_vs_typical']:.2f}x** faster than the typical playbook; the baseline task alone "
        f"{result['baseline_task_vs_win_ping']:.2f}x the wall time of a one-task win_ping play. Tasks per host: "
        + ", ".join(f"{kind} {n}" for kind, n in result["per_host_tasks"].items())
        + ".",
        "",
        f"Medians of {controller['repeats']} interleaved repeats; the 1-minute load average beside each run is in "
        "latest.json.",
        "",
        "| host s per module run | hosts | forks | audit s | typical s | baseline s | win_ping s | typical / audit "
        "| audit / win_ping | baseline / win_ping |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for point in [controller, *sweep["points"]]:
        wall = point["wall_seconds_median"]
        lines.append(
            f"| {point['host_cost_seconds_per_module_run']} | {point['hosts']} | {point['forks']} "
            f"| {wall['audit']:.1f} "
            f"| {wall['typical']:.1f} | {wall['baseline']:.1f} | {wall['win_ping']:.1f} "
            f"| {point['audit_play_vs_typical']:.2f}x | {point['audit_play_vs_win_ping_play']:.2f} "
            f"| {point['baseline_task_vs_win_ping']:.2f} |"
        )
    lines.append(
        f"\nHost-bound target point: audit play / win_ping play = "
        f"**{result['audit_play_vs_win_ping_play_host_bound']:.2f}**."
    )
    return "\n".join(lines) + "\n"


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
    return "\n".join(lines) + "\n" + sweep_markdown(result)


if __name__ == "__main__":
    sys.exit(main())
