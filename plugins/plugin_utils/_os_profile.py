# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OS applicability of the WMI security controls, decided from the facts wmi_state returns."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import dataclass

# Windows Server 2003 is NT 5.2. The unsecapp access check (UnsecAppAccessControlDefault) and SetSD's refusal of
# NULL security descriptors arrived with it; NT 4.0 (4.0), Windows 2000 (5.0) and XP (5.1) have neither.
# XP Professional x64 is also 5.2: it was built from the Server 2003 SP1 code base and has the 2003 behaviour.
SERVER_2003_VERSION = (5, 2)

# Why the unsecapp control does not apply before Server 2003, and what to do instead: two texts, because reports show
# them side by side ("Why", "Mitigation").
PRE_2003_WHY = (
    "This host predates Windows Server 2003 and has no unsecapp access check, so the registry value "
    "UnsecAppAccessControlDefault does nothing here."
)
PRE_2003_MITIGATION = (
    "Mitigate by script review instead: make WMI scripts synchronous or semisynchronous (no SWbemSink, "
    "ExecNotificationQueryAsync or *Async_ calls), and never run asynchronous callbacks in an administrative context."
)


@dataclass(frozen=True)
class OsProfile:
    """What the controls need to know about the host's Windows."""

    caption: str
    version: str
    major: int
    minor: int
    build: int
    product_type: int | None

    @property
    def pre_2003(self) -> bool:
        return (self.major, self.minor) < SERVER_2003_VERSION

    @property
    def family(self) -> str:
        """A short name of the release line, e.g. 'Windows 2000' or 'Windows Server 2003 or later'."""
        if self.major < 5:
            return f"Windows NT {self.major}.{self.minor}"
        if (self.major, self.minor) == (5, 0):
            return "Windows 2000"
        if (self.major, self.minor) == (5, 1):
            return "Windows XP"
        if self.product_type == 1:
            return "Windows client (XP x64 or later)"
        return "Windows Server 2003 or later"

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "caption": self.caption,
            "version": self.version,
            "build": self.build,
            "product_type": self.product_type,
            "family": self.family,
            "pre_2003": self.pre_2003,
        }


def parse_version(version: str | None) -> tuple[int, int, int]:
    """'10.0.20348' -> (10, 0, 20348); missing parts are 0, garbage raises ValueError."""
    parts = [int(part) for part in str(version or "").strip().split(".") if part != ""]
    if not parts:
        raise ValueError(f"not an OS version: {version!r}")
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def os_profile(facts: t.Mapping[str, t.Any]) -> OsProfile:
    """Build the profile from a wmi_state 'facts' result."""
    major, minor, build = parse_version(facts.get("os_version"))
    fact_build = facts.get("os_build")
    product_type = facts.get("product_type")
    return OsProfile(
        caption=str(facts.get("os_caption") or ""),
        version=str(facts.get("os_version")),
        major=major,
        minor=minor,
        build=int(fact_build) if fact_build is not None else build,
        product_type=int(product_type) if product_type is not None else None,
    )


def host_facts(facts: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The facts a module returns to the user (no gather_facts needed)."""
    keys = (
        "os_caption",
        "os_version",
        "os_build",
        "product_type",
        "computer_name",
        "dns_host_name",
        "domain",
        "part_of_domain",
        "ps_version",
    )
    return {key: facts.get(key) for key in keys}
