"""WS-Management (WinRS) messages: parse what pywinrm sends, build what a Windows WinRM service answers.

Only the six operations pywinrm and the ansible winrm connection use (notes §2.3): Create (shell), Command, Send,
Receive, Signal, Delete. Pure functions; the HTTP server and the shell state live in ``server.py``.
"""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}

SHELL = NS["rsp"]
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = f"{SHELL}/Command"
ACTION_SEND = f"{SHELL}/Send"
ACTION_RECEIVE = f"{SHELL}/Receive"
ACTION_SIGNAL = f"{SHELL}/Signal"
ACTION_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
STATE_DONE = f"{SHELL}/CommandState/Done"
STATE_RUNNING = f"{SHELL}/CommandState/Running"

# WSManFault codes a Windows WinRM service returns (winerror.h ERROR_WSMAN_* / ERROR_WINRS_*).
FAULT_OPERATION_TIMEOUT = 2150858793  # 0x80338029: pywinrm turns it into WinRMOperationTimeoutError, ansible retries
FAULT_SHELL_NOT_FOUND = 2150858843  # 0x8033805B: the shell id is unknown (closed or never created)
FAULT_ACTION_NOT_SUPPORTED = 2150858778  # 0x8033801A: unsupported a:Action
FAULT_INVALID_COMMAND_ID = 2150858886  # 0x80338086: command id unknown to the shell


class WSManRequestError(ValueError):
    """The HTTP body is not a WS-Management request we can parse."""


@dataclass
class Request:
    """The parts of a WS-Man request the simulator acts on."""

    action: str
    message_id: str
    shell_id: str | None = None
    command_id: str | None = None
    command: str | None = None
    arguments: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    stdin: bytes = b""
    stdin_end: bool = False
    signal_code: str | None = None
    operation_timeout: str | None = None


def _text(element: ET.Element | None) -> str:
    return (element.text or "") if element is not None else ""


def parse_request(body: bytes) -> Request:
    """Parse a SOAP envelope from pywinrm / the ansible winrm plugin."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise WSManRequestError(f"not XML: {exc}") from exc
    header = root.find("s:Header", NS)
    body_el = root.find("s:Body", NS)
    if header is None or body_el is None:
        raise WSManRequestError("not a SOAP 1.2 envelope (no s:Header / s:Body)")
    request = Request(action=_text(header.find("a:Action", NS)), message_id=_text(header.find("a:MessageID", NS)))
    for selector in header.iterfind("w:SelectorSet/w:Selector", NS):
        if selector.get("Name") == "ShellId":
            request.shell_id = _text(selector)
    for option in header.iterfind("w:OptionSet/w:Option", NS):
        request.options[option.get("Name", "")] = _text(option)
    request.operation_timeout = _text(header.find("w:OperationTimeout", NS)) or None

    command_line = body_el.find("rsp:CommandLine", NS)
    if command_line is not None:
        request.command = _text(command_line.find("rsp:Command", NS))
        request.arguments = [_text(arg) for arg in command_line.iterfind("rsp:Arguments", NS)]
    send = body_el.find("rsp:Send", NS)
    if send is not None:
        chunks = []
        for stream in send.iterfind("rsp:Stream", NS):
            request.command_id = stream.get("CommandId") or request.command_id
            if stream.text:
                chunks.append(base64.b64decode(stream.text))
            if (stream.get("End") or "").lower() == "true":
                request.stdin_end = True
        request.stdin = b"".join(chunks)
    receive = body_el.find("rsp:Receive", NS)
    if receive is not None:
        desired = receive.find("rsp:DesiredStream", NS)
        request.command_id = desired.get("CommandId") if desired is not None else None
    signal = body_el.find("rsp:Signal", NS)
    if signal is not None:
        request.command_id = signal.get("CommandId")
        request.signal_code = _text(signal.find("rsp:Code", NS))
    return request


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xml:lang="en-US" xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:x="{NS["x"]}" '
        f'xmlns:w="{NS["w"]}" xmlns:rsp="{NS["rsp"]}" xmlns:p="{NS["p"]}">'
        "<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def create_response(request: Request, shell_id: str, address: str) -> bytes:
    body = (
        "<x:ResourceCreated>"
        f"<a:Address>{escape(address)}</a:Address>"
        "<a:ReferenceParameters>"
        f"<w:ResourceURI>{RESOURCE_CMD}</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{escape(shell_id)}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters>"
        "</x:ResourceCreated>"
        f"<rsp:Shell><rsp:ShellId>{escape(shell_id)}</rsp:ShellId><rsp:ResourceUri>{RESOURCE_CMD}</rsp:ResourceUri>"
        "<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
    )
    return _envelope(f"{ACTION_CREATE}Response", request.message_id, body)


def command_response(request: Request, command_id: str) -> bytes:
    body = f"<rsp:CommandResponse><rsp:CommandId>{escape(command_id)}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(f"{ACTION_COMMAND}Response", request.message_id, body)


def send_response(request: Request) -> bytes:
    return _envelope(f"{ACTION_SEND}Response", request.message_id, "<rsp:SendResponse/>")


def receive_response(request: Request, command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None) -> bytes:
    """A Receive answer; ``exit_code`` None means the command still runs (CommandState Running)."""
    cid = quoteattr(command_id)
    parts = []
    if stdout:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid}>{base64.b64encode(stdout).decode()}</rsp:Stream>')
    if stderr:
        parts.append(f'<rsp:Stream Name="stderr" CommandId={cid}>{base64.b64encode(stderr).decode()}</rsp:Stream>')
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>')
    else:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid} End="true"/>')
        parts.append(f'<rsp:Stream Name="stderr" CommandId={cid} End="true"/>')
        parts.append(
            f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}"><rsp:ExitCode>{exit_code}</rsp:ExitCode>'
            "</rsp:CommandState>"
        )
    body = f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>"
    return _envelope(f"{ACTION_RECEIVE}Response", request.message_id, body)


def signal_response(request: Request) -> bytes:
    # pywinrm asserts RelatesTo == the request MessageID (protocol.py cleanup_command).
    return _envelope(f"{ACTION_SIGNAL}Response", request.message_id, "<rsp:SignalResponse/>")


def delete_response(request: Request) -> bytes:
    # pywinrm asserts RelatesTo == the request MessageID (protocol.py close_shell).
    return _envelope(f"{ACTION_DELETE}Response", request.message_id, "")


def fault(
    relates_to: str, *, code: int, reason: str, subcode: str = "w:InternalError", machine: str = "localhost"
) -> bytes:
    """A SOAP fault with a WSManFault detail (sent with HTTP 500, as Windows does)."""
    body = (
        "<s:Fault>"
        f"<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>{escape(subcode)}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason>'
        "<s:Detail>"
        f'<f:WSManFault xmlns:f="{NS["f"]}" Code="{code}" Machine={quoteattr(machine)}>'
        f"<f:Message>{escape(reason)}</f:Message></f:WSManFault>"
        "</s:Detail></s:Fault>"
    )
    return _envelope(ACTION_FAULT, relates_to, body)


def operation_timeout_fault(request: Request, machine: str) -> bytes:
    return fault(
        request.message_id,
        code=FAULT_OPERATION_TIMEOUT,
        subcode="w:TimedOut",
        reason="The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
        machine=machine,
    )


def shell_not_found_fault(request: Request, machine: str) -> bytes:
    return fault(
        request.message_id,
        code=FAULT_SHELL_NOT_FOUND,
        subcode="w:InvalidSelectors",
        reason=(
            f"The request for the Windows Remote Shell with ShellId {request.shell_id} failed because the shell was "
            "not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer "
            "exists on the server. Provide the correct ShellId or create a new shell and retry the operation."
        ),
        machine=machine,
    )
