"""A simulated Windows fleet that speaks real WS-Management (WinRM) on 127.0.0.1.

Not part of the built collection (galaxy.yml build_ignore). See simulator/README.md.
"""

__all__: list[str] = []
