"""The HTTP side: one ThreadingHTTPServer serves a whole fleet (``/wsman/<host>``) and the control API (``/_control``).

WinRS shells live in memory per host. A module runs when its stdin is complete (the Send with ``End="true"``); the
Receive that follows returns its JSON on stdout, exactly one module execution per WinRS command, as on Windows.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from . import bootstrap, wsman
from .dispatch import Execution, execute
from .fleet import Fleet, fleet_from_document
from .host import Caller, Host
from .payload import ModuleCall, PayloadError, ScriptCall, parse_payload

FAULT_KINDS = (
    "latency",
    "http_500",
    "connection_reset",
    "auth_failure",
    "operation_timeout",
    "unreachable",
    "fail_after_write",
    "change_before_write",
    # Seconds a real host spends on every module run before the module's own work: powershell.exe and the
    # exec-wrapper starting (benchmarks/fleet_audit.py --host-cost). Not a fault: it never runs out.
    "module_start_seconds",
)

MAX_SHELLS_PER_HOST = 256
_HOST_PATH = re.compile(r"^/wsman/([^/?]+)/?$")
_CONTROL_HOST = re.compile(r"^/_control/hosts/([^/]+)/(state|counters|faults|reset-counters)$")


@dataclass
class Command:
    command_id: str
    command_line: str
    stdin: bytearray = field(default_factory=bytearray)
    execution: Execution | None = None
    stderr: bytes = b""
    rc: int | None = None
    timeouts_served: int = 0
    drop_reply: bool = False  # fail_after_write: the write happened, the reply never arrives


@dataclass
class Shell:
    shell_id: str
    caller: Caller
    commands: dict[str, Command] = field(default_factory=dict)


class FleetState:
    """Hosts, their open shells, and fault bookkeeping (shared by all handler threads)."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.hosts = fleet.hosts
        self.shells: dict[str, dict[str, Shell]] = {name: {} for name in fleet.hosts}
        self.lock = threading.Lock()

    def reset(self) -> None:
        """Every host as the fleet file describes it (state, faults, counters), no open shell: the fleet as it started,
        so a test harness can hand one process to the next test instead of starting another (tests/e2e/conftest.py)."""
        fleet = fleet_from_document(self.fleet.name, self.fleet.source)
        with self.lock:
            self.fleet, self.hosts = fleet, fleet.hosts
            self.shells = {name: {} for name in fleet.hosts}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: requests/pywinrm reuse the connection (notes §2.4)
    server: FleetServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle's algorithm and the client's delayed ACK each
        # keep-alive request would stall ~40 ms (measured: 230 ms per six-request round trip without this).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        wire_dir = self.server.wire_dir
        if wire_dir is not None and self.path.startswith("/wsman/"):
            # --record-wire: keep each exchange as sent, for protocol tests and debugging.
            with self.server.wire_lock:
                self.server.wire_count += 1
                stem = wire_dir / f"{self.server.wire_count:05d}"
            stem.with_suffix(".request.xml").write_bytes(getattr(self, "_request_body", b""))
            stem.with_suffix(f".response-{status}.xml").write_bytes(body)
        counted = getattr(self, "_counted_host", None)
        if counted is not None:
            counted.counters.add_bytes(sent=len(body))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._reply(status, json.dumps(data, indent=1, default=str).encode(), "application/json")

    def _soap(self, status: int, body: bytes) -> None:
        self._reply(status, body, "application/soap+xml;charset=UTF-8")

    def _reset(self) -> None:
        """Drop the TCP connection with a RST, as a crashed or unreachable host does."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    # --- HTTP verbs -----------------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._control("GET", b"")

    def do_DELETE(self) -> None:
        self._control("DELETE", self._body())

    def do_PUT(self) -> None:
        self._control("PUT", self._body())

    def do_POST(self) -> None:
        body = self._body()
        self._request_body = body
        self._counted_host: Host | None = None  # set once the request is known to be for a host (byte counters)
        match = _HOST_PATH.match(self.path)
        if match:
            self._wsman(unquote(match.group(1)), body)
        else:
            self._control("POST", body)

    # --- WS-Management -------------------------------------------------------------------------------------------

    def _authenticate(self, host: Host) -> Caller | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return host.authenticate(user, password)

    def _wsman(self, host_name: str, body: bytes) -> None:
        state = self.server.state
        host = state.hosts.get(host_name)
        if host is None:
            self._reply(404, f"no simulated host {host_name!r}".encode(), "text/plain")
            return
        host.counters.count("http_requests")
        host.counters.add_bytes(received=len(body))
        self._counted_host = host
        if not host.profile.winrm:
            # No WinRM before Server 2003. The inventory points these hosts at a port that refuses connections
            # (FleetServer.refused_port); a client that reaches this port anyway gets its connection dropped.
            self._reset()
            return
        if host.take_fault("unreachable"):
            self._reset()
            return
        latency = host.take_fault("latency")
        if latency:
            time.sleep(float(latency))
        if host.take_fault("connection_reset"):
            self._reset()
            return
        caller = self._authenticate(host)
        if caller is None or host.take_fault("auth_failure"):
            host.counters.count("unauthorized")
            self._reply(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        if host.take_fault("http_500"):
            self._reply(500, b"simulated HTTP 500 (fault injected)", "text/plain")
            return
        try:
            request = wsman.parse_request(body)
        except wsman.WSManRequestError as exc:
            self._reply(400, str(exc).encode(), "text/plain")
            return
        action = request.action.rsplit("/", 1)[-1]
        host.counters.count("requests", action)
        machine = host.dns_host_name
        if request.action == wsman.ACTION_CREATE:
            self._create(host, caller, request)
            return
        shells = state.shells[host.name]
        shell = shells.get(request.shell_id or "")
        if shell is None:
            self._soap(500, wsman.shell_not_found_fault(request, machine))
            return
        if request.action == wsman.ACTION_DELETE:
            shells.pop(shell.shell_id, None)
            self._soap(200, wsman.delete_response(request))
        elif request.action == wsman.ACTION_COMMAND:
            command = Command(
                command_id=str(uuid.uuid4()).upper(), command_line=" ".join([request.command or "", *request.arguments])
            )
            shell.commands[command.command_id] = command
            self._soap(200, wsman.command_response(request, command.command_id))
        elif request.action == wsman.ACTION_SEND:
            target = shell.commands.get(request.command_id or "")
            if target is None:
                self._soap(500, self._bad_command(request, machine))
                return
            target.stdin += request.stdin
            if request.stdin_end:
                self._run(host, shell, target)
            self._soap(200, wsman.send_response(request))
        elif request.action == wsman.ACTION_RECEIVE:
            self._receive(host, shell, request, machine)
        elif request.action == wsman.ACTION_SIGNAL:
            shell.commands.pop(request.command_id or "", None)
            self._soap(200, wsman.signal_response(request))
        else:
            self._soap(
                500,
                wsman.fault(
                    request.message_id,
                    code=wsman.FAULT_ACTION_NOT_SUPPORTED,
                    subcode="a:ActionNotSupported",
                    reason=f"The action {request.action} is not supported by the service.",
                    machine=machine,
                ),
            )

    @staticmethod
    def _bad_command(request: wsman.Request, machine: str) -> bytes:
        return wsman.fault(
            request.message_id,
            code=wsman.FAULT_INVALID_COMMAND_ID,
            subcode="w:InvalidSelectors",
            reason=f"The command {request.command_id} is not running in this shell.",
            machine=machine,
        )

    def _create(self, host: Host, caller: Caller, request: wsman.Request) -> None:
        shell = Shell(shell_id=str(uuid.uuid4()).upper(), caller=caller)
        shells = self.server.state.shells[host.name]
        # Clients that die between Create and Delete leave shells behind (Windows expires them after
        # IdleTimeout); keep memory bounded by forgetting the oldest beyond a generous limit.
        while len(shells) >= MAX_SHELLS_PER_HOST:
            shells.pop(next(iter(shells)))
        shells[shell.shell_id] = shell
        host.counters.count("shells_opened")
        address = f"http://127.0.0.1:{self.server.port}/wsman/{host.name}"
        self._soap(200, wsman.create_response(request, shell.shell_id, address))

    def _run(self, host: Host, shell: Shell, command: Command) -> None:
        """Execute the module the stdin names (once per command)."""
        if command.rc is not None:
            return
        try:
            call = parse_payload(bytes(command.stdin))
        except PayloadError as exc:
            command.stderr = f"simulated host: cannot run this input: {exc}\r\n".encode()
            command.rc = 1
            return
        refused = bootstrap.refusal(host.profile.ps_version, getattr(call, "payload_format", "exec_manifest"))
        if refused is not None:
            # ansible-core's bootstrap stops before any module or script runs (simulator/bootstrap.py).
            host.log("bootstrap_refused", ps_version=host.profile.ps_version, stdout=refused.decode().strip())
            command.execution = Execution("bootstrap", {}, rc=1, wrote=False, raw_stdout=refused)
            command.rc = 1
            return
        if isinstance(call, ScriptCall):
            command.stderr = (
                f"simulated host: the internal script {call.script} is not supported. Modules always run pipelined "
                "over WinRM; ANSIBLE_KEEP_REMOTE_FILES and file transfers are not simulated.\r\n"
            ).encode()
            command.rc = 1
            return
        module_start = host.take_fault("module_start_seconds")
        if module_start:
            time.sleep(float(module_start))
        execution = self._execute(host, shell.caller, call)
        command.execution = execution
        command.rc = execution.rc
        if execution.wrote and host.take_fault("fail_after_write"):
            command.drop_reply = True

    def _execute(self, host: Host, caller: Caller, call: ModuleCall) -> Execution:
        execution = execute(host, caller, call)
        if self.server.record is not None:
            self.server.record.append({"host": host.name, "module": execution.module, "args": call.args})
        return execution

    def _receive(self, host: Host, shell: Shell, request: wsman.Request, machine: str) -> None:
        command = shell.commands.get(request.command_id or "")
        if command is None:
            self._soap(500, self._bad_command(request, machine))
            return
        timeouts = host.take_fault("operation_timeout")
        if timeouts and command.timeouts_served < int(timeouts):
            # A long-running command: the service answers OperationTimeout and the client polls again.
            command.timeouts_served += 1
            self._soap(500, wsman.operation_timeout_fault(request, machine))
            return
        if command.rc is None:
            # No stdin at all: a raw command line (ansible.builtin.raw, script). The simulator runs modules only.
            command.stderr = b"simulated host: raw commands are not supported; only modules are simulated.\r\n"
            command.rc = 1
        if command.drop_reply:
            command.drop_reply = False
            self._reset()
            return
        stdout = command.execution.stdout if command.execution else b""
        self._soap(200, wsman.receive_response(request, command.command_id, stdout, command.stderr, command.rc))

    # --- control API ---------------------------------------------------------------------------------------------

    def _control(self, method: str, body: bytes) -> None:
        state = self.server.state
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            self._json(400, {"error": "body is not JSON"})
            return
        if path == "/_control/fleet" and method == "GET":
            self._json(
                200,
                {
                    "name": state.fleet.name,
                    "port": self.server.server_address[1],
                    "hosts": {
                        n: {"profile": h.profile.key, "caption": h.profile.caption, "faults": h.faults}
                        for n, h in state.hosts.items()
                    },
                },
            )
        elif path == "/_control/counters" and method == "GET":
            self._json(200, {name: host.counters.as_dict() for name, host in state.hosts.items()})
        elif path == "/_control/reset-counters" and method == "POST":
            for host in state.hosts.values():
                with host.counters.lock:
                    host.counters.reset()
            self._json(200, {"reset": sorted(state.hosts)})
        elif path == "/_control/faults" and method == "DELETE":
            for host in state.hosts.values():
                with host.lock:
                    host.faults.clear()
            self._json(200, {"cleared": sorted(state.hosts)})
        elif path == "/_control/reset" and method == "POST":
            state.reset()
            if self.server.record is not None:
                self.server.record.clear()
            self._json(200, {"reset": sorted(state.hosts)})
        elif path == "/_control/records" and method == "GET":
            self._json(200, self.server.record or [])
        elif path == "/_control/shutdown" and method == "POST":
            self._json(200, {"stopping": True})
            threading.Thread(target=self.server.shutdown, daemon=True).start()
        else:
            match = _CONTROL_HOST.match(path)
            found = state.hosts.get(unquote(match.group(1))) if match else None
            if match is None or found is None:
                self._json(404, {"error": f"no control endpoint {method} {path}"})
                return
            host = found
            what = match.group(2)
            if what == "state" and method == "GET":
                self._json(200, host.state())
            elif what == "counters" and method == "GET":
                self._json(200, host.counters.as_dict())
            elif what == "reset-counters" and method == "POST":
                with host.counters.lock:
                    host.counters.reset()
                self._json(200, {"reset": [host.name]})
            elif what == "faults" and method == "GET":
                self._json(200, dict(host.faults))
            elif what == "faults" and method in ("POST", "PUT"):
                unknown = set(payload) - set(FAULT_KINDS)
                if unknown:
                    self._json(400, {"error": f"unknown fault kinds {sorted(unknown)}; known: {list(FAULT_KINDS)}"})
                    return
                with host.lock:
                    if method == "PUT":
                        host.faults.clear()
                    host.faults.update(payload)
                    self._json(200, dict(host.faults))
            elif what == "faults" and method == "DELETE":
                with host.lock:
                    host.faults.clear()
                self._json(200, {})
            else:
                self._json(405, {"error": f"{method} not allowed on {path}"})


class FleetServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, fleet: Fleet, port: int = 0, *, verbose: bool = False, record: bool = False, wire_dir: Path | None = None
    ) -> None:
        self.state = FleetState(fleet)
        self.wire_dir = wire_dir
        self.wire_lock = threading.Lock()
        self.wire_count = 0
        if wire_dir is not None:
            wire_dir.mkdir(parents=True, exist_ok=True)
        self.verbose = verbose
        self.record: list[dict[str, Any]] | None = [] if record else None
        super().__init__(("127.0.0.1", port), Handler)
        # Bound but never listening: a connection to it is refused at once (RST), as on a host with no WinRM
        # listener. The inventory sends the pre-2003 hosts here.
        self._refused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._refused.bind(("127.0.0.1", 0))

    @property
    def refused_port(self) -> int:
        return int(self._refused.getsockname()[1])

    def server_close(self) -> None:
        super().server_close()
        self._refused.close()

    @property
    def port(self) -> int:
        return int(self.server_address[1])
