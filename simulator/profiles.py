"""Windows OS profiles the simulator can play: caption, version, build, product type, PowerShell, WinRM.

Version numbers are the real ones (major.minor.build as ``Win32_OperatingSystem.Version`` reports them).

What Ansible can reach is modelled as it is (simulator/README.md, "Which hosts Ansible can reach"):

* NT 4.0, 2000 and XP have no WinRM listener (``winrm=False``): a connection is refused, Ansible reports the host
  UNREACHABLE. (XP SP3 could install WinRM 2.0 with PowerShell 2.0, which every ansible-core refuses anyway.) Their
  ``ps_version`` is only what a direct call of the host model (unit tests) reports.
* ``ps_version`` is the release's own PowerShell: Server 2003 and 2008 R2 2.0, 2012 R2 4.0, 2016 and later 5.1.
  2008 R2 and 2012 R2 can install WMF 5.1 (``wmf51_available``); a fleet host says whether it did (``wmf51``,
  default true there). Server 2003 cannot: it stops at PowerShell 2.0.
* ansible-core's bootstrap refuses PowerShell below 3.0 (ansible-core <= 2.18) or below 5.1 (2.19 and later);
  simulator/bootstrap.py applies that floor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class OsProfile:
    key: str
    caption: str
    version: str
    product_type: int  # 1 workstation, 2 domain controller, 3 server (Win32_OperatingSystem.ProductType)
    ps_version: str  # the release's own PowerShell (before any WMF upgrade)
    family: str  # inventory group
    nt4_style_namespaces: bool = False  # NT 4.0 shipped WMI 1.5 with fewer namespaces
    winrm: bool = True  # a WinRM listener exists (False before Server 2003: the connection is refused)
    wmf51_available: bool = False  # Windows Management Framework 5.1 installs on this release (2008 R2, 2012 R2)

    @property
    def major_minor(self) -> tuple[int, int]:
        major, minor, _ = self.version.split(".")
        return int(major), int(minor)

    @property
    def build(self) -> int:
        return int(self.version.split(".")[2])

    @property
    def pre_2003(self) -> bool:
        """NT 4.0, 2000 and XP (x86): no NULL-SD refusal in SetSD, no unsecapp access check (DESIGN §1)."""
        return self.major_minor < (5, 2)


PROFILES: dict[str, OsProfile] = {
    p.key: p
    for p in (
        OsProfile(
            "nt4",
            "Microsoft Windows NT 4.0 Server",
            "4.0.1381",
            3,
            "2.0",
            "legacy",
            nt4_style_namespaces=True,
            winrm=False,
        ),
        OsProfile("2000", "Microsoft Windows 2000 Server", "5.0.2195", 3, "2.0", "legacy", winrm=False),
        OsProfile("xp", "Microsoft Windows XP Professional", "5.1.2600", 1, "2.0", "legacy", winrm=False),
        OsProfile("2003", "Microsoft(R) Windows(R) Server 2003, Enterprise Edition", "5.2.3790", 3, "2.0", "ws2003"),
        OsProfile(
            "2008r2",
            "Microsoft Windows Server 2008 R2 Enterprise",
            "6.1.7601",
            3,
            "2.0",
            "ws2008",
            wmf51_available=True,
        ),
        OsProfile(
            "2012r2", "Microsoft Windows Server 2012 R2 Standard", "6.3.9600", 3, "4.0", "ws2012", wmf51_available=True
        ),
        OsProfile("2016", "Microsoft Windows Server 2016 Standard", "10.0.14393", 3, "5.1", "ws2016"),
        OsProfile("2019", "Microsoft Windows Server 2019 Standard", "10.0.17763", 3, "5.1", "ws2019"),
        OsProfile("2022", "Microsoft Windows Server 2022 Datacenter", "10.0.20348", 3, "5.1", "ws2022"),
        OsProfile("2025", "Microsoft Windows Server 2025 Datacenter", "10.0.26100", 3, "5.1", "ws2025"),
    )
}


def with_wmf51(profile: OsProfile, installed: bool) -> OsProfile:
    """The profile as a host runs it: PowerShell 5.1 where WMF 5.1 is installed (2008 R2 / 2012 R2 only)."""
    if not installed:
        return profile
    if profile.ps_version == "5.1":
        return profile
    if not profile.wmf51_available:
        raise ValueError(f"WMF 5.1 does not install on {profile.caption} (wmf51: true is only for 2008r2 and 2012r2)")
    return replace(profile, ps_version="5.1")


def get_profile(key: str) -> OsProfile:
    try:
        return PROFILES[str(key).lower()]
    except KeyError:
        raise ValueError(f"unknown OS profile {key!r}; known: {', '.join(PROFILES)}") from None
