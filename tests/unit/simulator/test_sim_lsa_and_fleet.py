"""LSA-like lookups, fleet files, OS profiles, the inventory, and the collection tree the simulator imports from."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator._paths import REPO_ROOT, ensure_collection_tree
from simulator.argspec import options_to_argument_spec
from simulator.fleet import build_host, load_fleet
from simulator.inventory import inventory_for
from simulator.lsa import Lsa
from simulator.profiles import PROFILES, get_profile


def lsa(**kwargs: object) -> Lsa:
    base: dict[str, object] = {"computer_name": "WEB01", "machine_sid": "S-1-5-21-1-2-3", "nt_version": (10, 0)}
    return Lsa(**{**base, **kwargs})


def test_well_known_builtin_local_and_domain_names() -> None:
    joined = lsa(
        domain_netbios="CORP",
        domain_dns="corp.example.com",
        domain_sid="S-1-5-21-7-8-9",
        local_users={"ops": 1000},
        domain_users={"jdoe": 1105},
    )
    assert joined.lookup_sid("S-1-1-0") == "Everyone"
    assert joined.lookup_sid("S-1-5-18") == "NT AUTHORITY\\SYSTEM"
    assert joined.lookup_sid("S-1-5-32-580") == "BUILTIN\\Remote Management Users"
    assert joined.lookup_sid("S-1-5-21-1-2-3-500") == "WEB01\\Administrator"
    assert joined.lookup_sid("S-1-5-21-7-8-9-512") == "CORP\\Domain Admins"
    assert joined.lookup_sid("S-1-5-21-1-2-3-1107") is None  # orphan
    assert joined.lookup_name("administrators") == "S-1-5-32-544"
    assert joined.lookup_name("NT AUTHORITY\\Authenticated Users") == "S-1-5-11"
    assert joined.lookup_name(".\\ops") == joined.lookup_name("WEB01\\ops") == "S-1-5-21-1-2-3-1000"
    assert joined.lookup_name("corp.example.com\\jdoe") == joined.lookup_name("jdoe@corp.example.com")
    assert joined.lookup_name("jdoe") == "S-1-5-21-7-8-9-1105"
    assert joined.lookup_name("s-1-5-21-4-5-6-7") == "S-1-5-21-4-5-6-7"  # a SID string comes back as is
    assert joined.lookup_name("CORP\\nobody") is None
    # Administrator resolves locally first, like LsaLookupNames on a member server.
    assert joined.lookup_name("Administrator") == "S-1-5-21-1-2-3-500"


def test_workgroup_host_cannot_resolve_domain_accounts_and_old_releases_lack_newer_groups() -> None:
    assert lsa().lookup_name("CORP\\jdoe") is None
    nt4 = lsa(nt_version=(4, 0))
    assert nt4.lookup_sid("S-1-5-20") is None and nt4.lookup_sid("S-1-5-32-544") == "BUILTIN\\Administrators"


def test_profiles_cover_nt4_to_2025_and_pre_2003_flags() -> None:
    assert len(PROFILES) == 10
    assert [k for k, p in PROFILES.items() if p.pre_2003] == ["nt4", "2000", "xp"]
    assert get_profile("2008R2").version == "6.1.7601"
    with pytest.raises(ValueError, match="unknown OS profile"):
        get_profile("vista")


def test_demo_fleet_has_the_drift_the_issue_lists() -> None:
    demo = load_fleet("demo")
    hosts = demo.hosts
    assert len(hosts) == 24
    unsecapp = {
        n: h.registry.get("HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM", "UnsecAppAccessControlDefault")
        for n, h in hosts.items()
    }
    assert any(v is None for v in unsecapp.values())
    assert any(v and v.type == "REG_SZ" for v in unsecapp.values())
    assert any(v and v.type == "REG_DWORD" and v.data == 0 for v in unsecapp.values())
    assert "(A;CI;CCDCLCSWRPWP;;;WD)" in hosts["app02"].namespaces.sddl("root\\cimv2")
    assert any(
        c.cls == "CommandLineEventConsumer" and c.name == "WindowsUpdateHealth" for c in hosts["mgmt02"].consumers
    )
    assert sum(h.profile.pre_2003 for h in hosts.values()) == 3
    assert [n for n, h in hosts.items() if h.faults.get("unreachable")] == ["branch-srv"]
    sql02 = hosts["sql02"]
    orphans = [
        a.sid for a in sql02.namespaces.effective("root\\cimv2").aces or () if sql02.lsa.lookup_sid(a.sid) is None
    ]
    assert len(orphans) == 2


def test_fleet_file_errors_and_count_expansion(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        build_host({"name": "x", "profil": "2022"})
    bench = tmp_path / "bench.yml"
    bench.write_text(yaml.safe_dump({"hosts": [{"name": "bench{index:03d}", "count": 12, "profile": "2019"}]}))
    fleet = load_fleet(bench)
    assert sorted(fleet.hosts)[:2] == ["bench001", "bench002"] and len(fleet.hosts) == 12
    with pytest.raises(FileNotFoundError):
        load_fleet("no-such-fleet")


def test_inventory_shape() -> None:
    fleet = load_fleet("small")
    inventory = inventory_for(fleet, 5999)["all"]
    assert inventory["vars"]["ansible_connection"] == "winrm"
    assert inventory["vars"]["ansible_winrm_scheme"] == "http"
    assert inventory["vars"]["ansible_winrm_transport"] == "basic"
    assert inventory["vars"]["ansible_port"] == 5999
    hosts = {h: v for g in inventory["children"].values() for h, v in (g.get("hosts") or {}).items()}
    assert hosts["ws2022"]["ansible_winrm_path"] == "/wsman/ws2022"
    assert set(inventory["children"]["pre_2003"]["children"]) == {"os_legacy"}
    assert not set(hosts) & set(inventory["children"])  # no group named like a host


def test_collection_tree_is_created_like_pytest_ansible(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "plugins" / "plugin_utils").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "galaxy.yml", repo / "galaxy.yml")
    (repo / "README.md").write_text("x")
    name_dir = ensure_collection_tree(repo)
    assert name_dir == repo / "collections" / "ansible_collections" / "winsec" / "wmi"
    assert (name_dir / "plugins").is_symlink() and (name_dir / "plugins").resolve() == repo / "plugins"
    assert not (name_dir / "collections").exists()
    (repo / "docs").mkdir()
    ensure_collection_tree(repo)  # idempotent, and adds entries created later
    assert (name_dir / "docs").is_symlink()


def test_documented_options_become_an_argument_spec() -> None:
    spec = options_to_argument_spec(
        {
            "operations": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "description": ["ignored"],
                "suboptions": {"op": {"type": "str", "choices": ["a"]}, "n": {"description": "no type"}},
            }
        }
    )
    assert spec == {
        "operations": {
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {"op": {"type": "str", "choices": ["a"]}, "n": {"type": "str"}},
        }
    }


def test_the_simulator_starts_without_ansibles_action_plugin_machinery():
    # Every e2e fleet is a fresh simulator process: importing ansible.plugins.action (through _wmi_action) cost a
    # quarter of a CPU-second per start. It needs only the argument spec (plugin_utils/_argspec.py).
    code = "import sys, simulator.server; print(sorted(m for m in sys.modules if m.startswith('ansible.plugins')))"
    started = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert started.stdout.strip() == "[]", started.stdout
