"""Windows OS profiles the simulator can play: caption, version, build, product type, PowerShell version.

Version numbers are the real ones (major.minor.build as ``Win32_OperatingSystem.Version`` reports them). Hosts older
than Server 2003 never ran PowerShell or WinRM; the simulator still lets Ansible reach them (the stand-in for an agent
or a jump host) and reports ``ps_version`` as what a WinRM-capable stand-in would run (2.0), so the OS-dependent
behaviour under test is WMI's, not the transport's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OsProfile:
    key: str
    caption: str
    version: str
    product_type: int  # 1 workstation, 2 domain controller, 3 server (Win32_OperatingSystem.ProductType)
    ps_version: str
    family: str  # inventory group
    nt4_style_namespaces: bool = False  # NT 4.0 shipped WMI 1.5 with fewer namespaces

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
        OsProfile("nt4", "Microsoft Windows NT 4.0 Server", "4.0.1381", 3, "2.0", "legacy", nt4_style_namespaces=True),
        OsProfile("2000", "Microsoft Windows 2000 Server", "5.0.2195", 3, "2.0", "legacy"),
        OsProfile("xp", "Microsoft Windows XP Professional", "5.1.2600", 1, "2.0", "legacy"),
        OsProfile("2003", "Microsoft(R) Windows(R) Server 2003, Enterprise Edition", "5.2.3790", 3, "2.0", "ws2003"),
        OsProfile("2008r2", "Microsoft Windows Server 2008 R2 Enterprise", "6.1.7601", 3, "5.1", "ws2008"),
        OsProfile("2012r2", "Microsoft Windows Server 2012 R2 Standard", "6.3.9600", 3, "5.1", "ws2012"),
        OsProfile("2016", "Microsoft Windows Server 2016 Standard", "10.0.14393", 3, "5.1", "ws2016"),
        OsProfile("2019", "Microsoft Windows Server 2019 Standard", "10.0.17763", 3, "5.1", "ws2019"),
        OsProfile("2022", "Microsoft Windows Server 2022 Datacenter", "10.0.20348", 3, "5.1", "ws2022"),
        OsProfile("2025", "Microsoft Windows Server 2025 Datacenter", "10.0.26100", 3, "5.1", "ws2025"),
    )
}


def get_profile(key: str) -> OsProfile:
    try:
        return PROFILES[str(key).lower()]
    except KeyError:
        raise ValueError(f"unknown OS profile {key!r}; known: {', '.join(PROFILES)}") from None
