"""Fixtures for the simulator's unit tests: real payloads from the installed ansible-core, fresh host models."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on sys.path
    sys.path.insert(0, str(REPO_ROOT))

from simulator._paths import install_collection_path  # noqa: E402

install_collection_path()

from simulator.fleet import Fleet, build_host, load_fleet  # noqa: E402
from simulator.host import Host  # noqa: E402
from simulator.server import FleetServer  # noqa: E402


@pytest.fixture
def small_fleet() -> Fleet:
    return load_fleet("small")


@pytest.fixture
def host_factory() -> Callable[..., Host]:
    def make(**spec: Any) -> Host:
        spec.setdefault("name", "testhost")
        return build_host(spec)

    return make


@pytest.fixture
def serve_fleet() -> Iterator[Callable[[Fleet], FleetServer]]:
    """Serve a fleet in-process for protocol tests (no Ansible forks here, so threads in-process are safe); every
    server started is stopped after the test."""
    servers: list[FleetServer] = []

    def serve(fleet: Fleet) -> FleetServer:
        server = FleetServer(fleet, 0)
        servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fleet_server(small_fleet: Fleet, serve_fleet: Callable[[Fleet], FleetServer]) -> FleetServer:
    """The small fleet, served in-process."""
    return serve_fleet(small_fleet)
