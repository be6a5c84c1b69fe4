"""``python -m simulator serve --fleet FILE [--port 0] --inventory OUT.yml``: serve a fleet until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ._paths import install_collection_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a fleet over WinRM on 127.0.0.1")
    serve.add_argument("--fleet", required=True, help="fleet file, or the name of a shipped fleet (small, demo)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (0 = any free port; the port is printed)")
    serve.add_argument("--inventory", type=Path, help="write an Ansible inventory for the fleet here")
    serve.add_argument("--verbose", action="store_true", help="log every HTTP request to stderr")
    serve.add_argument("--record", action="store_true", help="keep every module call (GET /_control/records)")
    serve.add_argument("--record-wire", type=Path, metavar="DIR", help="write every WS-Man request/response to DIR")
    args = parser.parse_args(argv)

    # The SD codec is imported from <repo>/collections/ansible_collections/winsec/wmi, the tree pytest-ansible uses.
    install_collection_path()
    from .fleet import load_fleet
    from .inventory import write_inventory
    from .server import FleetServer

    fleet = load_fleet(args.fleet)
    server = FleetServer(fleet, args.port, verbose=args.verbose, record=args.record, wire_dir=args.record_wire)
    if args.inventory:
        write_inventory(fleet, server.port, args.inventory, server.refused_port)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # One machine-readable line: the test fixture and the Makefile wait for it.
    print(f"SIMULATOR LISTENING port={server.port} hosts={len(fleet.hosts)} fleet={fleet.name}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    print("SIMULATOR STOPPED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
