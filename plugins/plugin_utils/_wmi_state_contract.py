# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wire contract of winsec.wmi.wmi_state as data: per-op parameters, result keys, error codes.

plugins/modules/wmi_state.yml documents the options and describes these in prose; this file states the parts an
argument spec cannot say, once. The PowerShell module ($requiredByOp, its write ops, the codes it emits), the
simulator and the controller's operation builders are compared with it by tests/unit (test_wmi_state_contract.py).
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import hashlib
import re
import typing as t

from ._wmi_names import namespace_problem

# Parameters each op needs besides 'op' (the option spec cannot say "required when op=..."). A call that lacks one
# fails as a whole before any operation runs.
REQUIRED_BY_OP: dict[str, tuple[str, ...]] = {
    "facts": (),
    "registry_read": ("value",),
    "registry_write": ("value", "data", "value_type", "expected"),
    "sd_get": ("namespace",),
    "sd_set": ("namespace", "sd", "expected_sd"),
    "sacl_set": ("namespace", "sd", "expected_sd"),
    "caller_rights": ("namespace",),
    "sid_lookup": ("names",),
    "name_lookup": ("sids",),
    "event_subscriptions": (),
    "event_subscription_remove": ("namespace", "kind", "expected_instance"),
    "event_subscription_create": ("namespace", "kind", "instance"),
    "script_files": ("paths",),
}

# Ops that write: refused in check mode (CHECK_MODE) and skipped after an earlier failed write (SKIPPED).
WRITE_OPS: frozenset[str] = frozenset(
    {"registry_write", "sd_set", "sacl_set", "event_subscription_remove", "event_subscription_create"}
)

# Keys of a successful op's result besides 'op' and 'failed'.
SUCCESS_KEYS: dict[str, tuple[str, ...]] = {
    "facts": (
        "os_caption",
        "os_version",
        "os_build",
        "product_type",
        "computer_name",
        "dns_host_name",
        "domain",
        "part_of_domain",
        "ps_version",
        "caller_sid",
        "caller_name",
        "caller_groups",
        "caller_deny_only_groups",
    ),
    "registry_read": ("key_exists", "exists", "type", "data"),
    "registry_write": ("before", "after"),
    "sd_get": ("namespaces",),
    "sd_set": ("sd", "read_back_error"),
    "sacl_set": ("sd", "read_back_error"),
    "caller_rights": ("mask",),
    "sid_lookup": ("accounts",),
    "name_lookup": ("accounts",),
    "event_subscriptions": ("filters", "consumers", "bindings"),
    "event_subscription_remove": ("removed",),
    "event_subscription_create": ("created",),
    "script_files": ("files", "stopped", "unread", "ansi_code_page"),
}
# Keys an option adds to a successful result: (op, option) -> keys.
CONDITIONAL_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("sd_get", "resolve_names"): ("principals", "principal_errors"),
    ("sd_get", "sacl"): ("sacl_read",),
    ("event_subscriptions", "recurse"): ("namespace_errors",),
}

# A failed op's result is exactly these keys; 'error' is an ERROR_KEYS dict (also used per namespace, account, file).
FAILURE_KEYS: tuple[str, ...] = ("op", "failed", "error")
ERROR_KEYS: tuple[str, ...] = ("code", "hresult", "message")

# Every error code the module can emit; what each means to a user is _wmi_errors (WMI_HRESULTS, OPERATION_ERRORS).
ERROR_CODES: tuple[str, ...] = (
    "WMI",  # a WMI/CIM failure; hresult is the WBEM HRESULT
    "ACCESS_DENIED",  # Windows refused access outside WMI (registry, file); hresult 0x80070005
    "REGISTRY",  # another registry failure
    "FILE",  # a script file could not be read
    "LOOKUP",  # an account name or SID could not be translated (per account)
    "NOT_FOUND",  # a script_files path does not exist
    "BUDGET",  # script_files: a file left unread because it would pass max_total_bytes
    "REPARSE_POINT",  # script_files: a junction or symbolic link listed in unread, not followed
    "INVALID_SD",  # sd_set: not a self-relative descriptor, or no DACL / a NULL DACL (refused before SetSD);
    # sacl_set: not a self-relative descriptor holding a SACL and nothing else
    "PRIVILEGE",  # sacl_set: the account does not hold SeSecurityPrivilege, which setting a SACL needs
    "INVALID_PROPERTY",  # event_subscription_create: a property the class does not declare, or a value its CIM type
    # cannot hold (typed from the class schema before New-CimInstance); nothing created
    "CHANGED_SINCE_READ",  # a write's expected state no longer holds; nothing written
    "CHECK_MODE",  # a write sent in check mode
    "SKIPPED",  # a write after a failed write
    "UNEXPECTED",  # any other host exception; hresult and message are the exception's
)
# Codes the controller gives an op's result itself (the module never emits them): the result broke its shape
# (RESULT_SHAPES below), so the controls that read it are in error and the others keep their results.
CONTROLLER_ERROR_CODES: tuple[str, ...] = ("MALFORMED_REPLY",)


# --- The shape of every result, checked once where replies enter the controller ----------------------------------
#
# A compromised host controls every byte of its reply, so each op's result is checked here, by the runner, before any
# control reads it (check_results). A result that breaks its shape becomes that op's failure with the code
# MALFORMED_REPLY and a message naming the key or index; only the controls that read that op are in error. Keys this
# table does not name are dropped, so a newer target may add keys without breaking an older controller. Adding a key
# is one line: the key and its shape in RESULT_SHAPES (Optional unless every target version returns it).
#
# The caps (documented in plugins/modules/wmi_state.yml, "Limits the controller enforces"). Identifiers (SIDs,
# namespace paths, base64) over their cap make the result malformed: a cut identifier would name something else.
# Display text over its cap (names, command lines, queries, messages) is cut and marked with its original length and a
# digest of the whole, so one host's 50 MB consumer name cannot fill the reports of a fleet, and two long names that
# share their first NAME_CHARS characters (and their length) stay two names: a cut name is still an identity.
NAME_CHARS = 1024  # an instance key or class name (a consumer's or filter's Name, an account name)
NAMESPACE_CHARS = 2048  # a namespace path such as root\cimv2\Security
TEXT_CHARS = 32767  # command lines (CreateProcess's limit, Microsoft Learn), queries, script text, paths, data
MESSAGE_CHARS = 2048  # an error message
SID_CHARS = 192  # S-1-<authority>-<15 sub-authorities of 10 digits> is 184 characters at most (MS-DTYP 2.4.2.1)
SD_BASE64_CHARS = 262144  # a self-relative descriptor holds two ACLs of 64 KiB at most (MS-DTYP 2.4.5) + SIDs
FILE_BASE64_CHARS = 4 * 1024 * 1024 * 4 // 3 + 4  # script_files' content: base64 of max_bytes (at most 4 MiB read)
LIST_ITEMS = 10000  # namespaces, subscriptions of one kind, accounts, files, registry strings
GROUP_SIDS = 4096  # a token's groups
PROPERTIES = 256  # other properties set on one consumer
TRUNCATION_MARKER = "...[cut by winsec.wmi - {length} characters in all, sha256 {digest}]"
TRUNCATION_DIGEST_HEX = 16  # 64 bits of SHA-256: two names a host sends are told apart, not a signature


class MalformedReply(ValueError):
    """One value of a result broke its shape; ``where`` is the path of keys and indexes to it."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, dict):
        return "a dictionary"
    if isinstance(value, list):
        return "a list"
    return {"str": "a string", "int": "an int", "float": "a float"}.get(type(value).__name__, "another type")


# JSON can carry an unpaired UTF-16 surrogate (\ud800); Python keeps it in a str that cannot be encoded as UTF-8, so
# it would break every result and report that carries it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def bounded_text(text: str, cap: int) -> str:
    """``text`` cut to ``cap`` characters and marked with its original length and a digest of the whole text, or as
    it is when it fits."""
    if len(text) <= cap:
        return text
    # surrogatepass: the digest must not fail on a lone surrogate past the cut (one before it is refused later)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:TRUNCATION_DIGEST_HEX]
    return text[:cap] + TRUNCATION_MARKER.format(length=len(text), digest=digest)


class Shape:
    """What one value of a result must be; ``check`` returns the value to keep or raises MalformedReply.

    Subclasses name the Python type they take (``kind``, ``described``) and check the rest in ``checked``."""

    kind: type | tuple[type, ...] = object
    described = "a value"
    nullable = False

    def check(self, value: object, where: str) -> object:
        if value is None and self.nullable:
            return None
        if not isinstance(value, self.kind) or (isinstance(value, bool) and bool not in _types(self.kind)):
            raise MalformedReply(
                where, f"expected {self.described}{' or null' if self.nullable else ''}, got {_kind(value)}"
            )
        return self.checked(value, where)

    def checked(self, value: t.Any, where: str) -> object:
        return value


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


class Text(Shape):
    """A string of at most ``cap`` characters: identifiers (``cut=False``) fail beyond it, display text is cut."""

    kind, described = str, "a string"

    def __init__(self, cap: int, *, cut: bool = True, nullable: bool = False) -> None:
        self.cap, self.cut, self.nullable = cap, cut, nullable

    def checked(self, value: str, where: str) -> object:
        if len(value) > self.cap and not self.cut:
            raise MalformedReply(where, f"{len(value)} characters, more than the {self.cap} allowed")
        kept = bounded_text(value, self.cap)
        if _LONE_SURROGATE.search(kept):
            raise MalformedReply(where, "holds an unpaired UTF-16 surrogate")
        return kept


class Number(Shape):
    """An int (never a bool, which JSON spells differently) within [minimum, maximum]."""

    kind, described = int, "an int"

    def __init__(self, minimum: int = -(2**63), maximum: int = 2**64 - 1, *, nullable: bool = False) -> None:
        self.minimum, self.maximum, self.nullable = minimum, maximum, nullable

    def checked(self, value: int, where: str) -> object:
        if not self.minimum <= value <= self.maximum:
            shown = str(value) if abs(value) < 10**40 else f"a {value.bit_length()}-bit integer"
            raise MalformedReply(where, f"{shown} is outside {self.minimum}..{self.maximum}")
        return value


class Real(Shape):
    """A number that may have a fraction (a CIM real32 or real64 property); an int is one too, a bool is not."""

    kind, described = (int, float), "a number"


class Flag(Shape):
    kind, described = bool, "a bool"

    def __init__(self, *, nullable: bool = False) -> None:
        self.nullable = nullable


class OneOf(Shape):
    """One of a fixed set of strings (or null when ``nullable``)."""

    kind = str

    def __init__(self, choices: tuple[str, ...], *, nullable: bool = False) -> None:
        self.choices, self.nullable = choices, nullable
        self.described = f"one of {', '.join(choices)}"

    def checked(self, value: str, where: str) -> object:
        if value not in self.choices:
            raise MalformedReply(where, f"expected {self.described}, got {len(value)} characters that are not")
        return value


class Either(Shape):
    """The first of ``shapes`` that accepts the value (e.g. a registry value's data: int, string or strings)."""

    def __init__(self, *shapes: Shape, described: str) -> None:
        self.shapes, self.described = shapes, described

    def check(self, value: object, where: str) -> object:
        for shape in self.shapes:
            try:
                return shape.check(value, where)
            except MalformedReply:
                continue
        raise MalformedReply(where, f"expected {self.described}, got {_kind(value)}")


class ListOf(Shape):
    kind, described = list, "a list"

    def __init__(self, item: Shape, cap: int = LIST_ITEMS, *, nullable: bool = False) -> None:
        self.item, self.cap, self.nullable = item, cap, nullable

    def checked(self, value: list[object], where: str) -> object:
        if len(value) > self.cap:
            raise MalformedReply(where, f"{len(value)} entries, more than the {self.cap} allowed")
        return [self.item.check(item, f"{where}[{index}]") for index, item in enumerate(value)]


class MapOf(Shape):
    """A dictionary whose keys are ``key`` strings (e.g. SIDs) and values ``value``."""

    kind, described = dict, "a dictionary"

    def __init__(self, key: Text, value: Shape, cap: int = LIST_ITEMS) -> None:
        self.key, self.value, self.cap = key, value, cap

    def checked(self, value: dict[object, object], where: str) -> object:
        if len(value) > self.cap:
            raise MalformedReply(where, f"{len(value)} entries, more than the {self.cap} allowed")
        checked = {}
        for index, (key, item) in enumerate(value.items()):
            # The key is host text: the path names it by position, never by its text.
            name = str(self.key.check(key, f"{where} key #{index}"))
            checked[name] = self.value.check(item, f"{where} key #{index}")
        return checked


class Record(Shape):
    """A dictionary with the named keys: ``required`` ones must be present; keys not named are dropped."""

    kind, described = dict, "a dictionary"

    def __init__(self, fields: dict[str, Shape], *, required: tuple[str, ...] = (), nullable: bool = False) -> None:
        self.fields, self.required, self.nullable = fields, required, nullable

    def checked(self, value: dict[str, object], where: str) -> dict[str, object]:
        prefix = f"{where}." if where else ""
        missing = [key for key in self.required if key not in value]
        if missing:
            raise MalformedReply(where, f"missing key {missing[0]}")
        return {key: shape.check(value[key], prefix + key) for key, shape in self.fields.items() if key in value}


class Optional(Shape):
    """Marks a Record field the target may leave out (a key added in a later version, or set by an option)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape

    def check(self, value: object, where: str) -> object:
        return self.shape.check(value, where)


def record(**fields: Shape) -> Record:
    """A Record whose fields are required unless wrapped in Optional."""
    return Record(fields, required=tuple(key for key, shape in fields.items() if not isinstance(shape, Optional)))


class NamespacePath(Text):
    """A namespace path WMI could hold (root\\..., no character WMI refuses in a name), at most NAMESPACE_CHARS."""

    def __init__(self, *, nullable: bool = False) -> None:
        super().__init__(NAMESPACE_CHARS, cut=False, nullable=nullable)

    def check(self, value: object, where: str) -> object:
        checked = super().check(value, where)
        problem = namespace_problem(checked) if isinstance(checked, str) else None
        if problem:
            raise MalformedReply(where, f"not a namespace path: it {problem}")
        return checked


SID = Text(SID_CHARS, cut=False)
NAMESPACE = NamespacePath()
NAME = Text(NAME_CHARS)
TEXT = Text(TEXT_CHARS, nullable=True)
ERROR = record(
    code=Text(64, cut=False),
    hresult=Optional(Either(Number(nullable=True), Text(32, cut=False), described="an int, a hex string or null")),
    message=Optional(Text(MESSAGE_CHARS, nullable=True)),
)
OPTIONAL_ERROR = Optional(Record(ERROR.fields, required=ERROR.required, nullable=True))
REGISTRY_TYPES = (
    "REG_DWORD", "REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ", "REG_QWORD", "REG_BINARY", "REG_NONE", "REG_UNKNOWN"
)  # fmt: skip
REGISTRY_DATA = Either(
    Number(nullable=True), Text(TEXT_CHARS), ListOf(Text(TEXT_CHARS)), described="an int, a string, strings or null"
)
REGISTRY_STATE = record(
    exists=Flag(), type=Optional(OneOf(REGISTRY_TYPES, nullable=True)), data=Optional(REGISTRY_DATA)
)
# A consumer property's value, typed from its CIM type: a string (also datetimes), an integer, a real, a bool, an
# array of them, or null.
ONE_VALUE = Either(Flag(), Number(), Real(), Text(TEXT_CHARS), described="a string, a number or a bool")
SCALAR = Either(
    Flag(nullable=True),
    ONE_VALUE,
    ListOf(ONE_VALUE, PROPERTIES),
    described="a string, a number, a bool, a list or null",
)
FILTER = record(
    namespace=NAMESPACE,
    name=NAME,
    query=TEXT,
    query_language=Optional(TEXT),
    event_namespace=Optional(Text(NAMESPACE_CHARS, nullable=True)),  # WQL text: checked where it is used
    creator_sid=Optional(Text(SID_CHARS, cut=False, nullable=True)),
)
CONSUMER = record(
    namespace=NAMESPACE,
    name=NAME,
    **{"class": NAME},
    command_line_template=Optional(TEXT),
    executable_path=Optional(TEXT),
    script_text=Optional(TEXT),
    script_file_name=Optional(TEXT),
    scripting_engine=Optional(TEXT),
    properties=Optional(MapOf(Text(NAME_CHARS, cut=False), SCALAR, PROPERTIES)),
)
BINDING = record(
    namespace=NAMESPACE, filter=NAME, consumer=NAME, consumer_class=Optional(Text(NAME_CHARS, nullable=True))
)
SUBSCRIPTION_INSTANCE = Either(FILTER, CONSUMER, BINDING, described="a filter, consumer or binding")
DESCRIPTOR = Text(SD_BASE64_CHARS, cut=False, nullable=True)

# Per op: the keys of its successful result and their shapes (the failure keys are FAILURE_KEYS, checked the same
# for every op).
RESULT_SHAPES: dict[str, Record] = {
    "facts": record(
        os_caption=Optional(Text(NAME_CHARS, nullable=True)),
        os_version=Text(64, cut=False),
        os_build=Optional(Number(0, 2**32, nullable=True)),
        product_type=Optional(Number(0, 255, nullable=True)),
        computer_name=Optional(Text(NAME_CHARS, nullable=True)),
        dns_host_name=Optional(Text(NAME_CHARS, nullable=True)),
        domain=Optional(Text(NAME_CHARS, nullable=True)),
        part_of_domain=Optional(Flag(nullable=True)),
        ps_version=Optional(Text(64, nullable=True)),
        caller_sid=Optional(Text(SID_CHARS, cut=False, nullable=True)),
        caller_name=Optional(Text(NAME_CHARS, nullable=True)),
        caller_groups=Optional(ListOf(SID, GROUP_SIDS, nullable=True)),
        caller_deny_only_groups=Optional(ListOf(SID, GROUP_SIDS, nullable=True)),
    ),
    "registry_read": record(
        key_exists=Flag(), exists=Flag(), type=OneOf(REGISTRY_TYPES, nullable=True), data=Optional(REGISTRY_DATA)
    ),
    "registry_write": record(before=REGISTRY_STATE, after=REGISTRY_STATE),
    "sd_get": record(
        namespaces=ListOf(
            record(
                namespace=NAMESPACE, sd=DESCRIPTOR, error=OPTIONAL_ERROR, sacl_returned=Optional(Flag(nullable=True))
            )
        ),
        principals=Optional(MapOf(SID, Text(NAME_CHARS, nullable=True))),
        principal_errors=Optional(MapOf(SID, ERROR)),
        sacl_read=Optional(Flag()),
    ),
    "sd_set": record(sd=DESCRIPTOR, read_back_error=OPTIONAL_ERROR),
    "sacl_set": record(sd=DESCRIPTOR, read_back_error=OPTIONAL_ERROR),
    "caller_rights": record(mask=Number(0, 2**32 - 1)),
    "sid_lookup": record(
        accounts=ListOf(
            record(name=Text(NAME_CHARS), sid=Text(SID_CHARS, cut=False, nullable=True), error=OPTIONAL_ERROR)
        )
    ),
    "name_lookup": record(accounts=ListOf(record(sid=SID, name=Text(NAME_CHARS, nullable=True), error=OPTIONAL_ERROR))),
    "event_subscriptions": record(
        filters=ListOf(FILTER),
        consumers=ListOf(CONSUMER),
        bindings=ListOf(BINDING),
        namespace_errors=Optional(ListOf(record(namespace=NAMESPACE, error=ERROR))),
    ),
    "event_subscription_remove": record(removed=SUBSCRIPTION_INSTANCE),
    "event_subscription_create": record(created=SUBSCRIPTION_INSTANCE),
    "script_files": record(
        files=ListOf(
            record(
                path=Text(TEXT_CHARS, cut=False),
                size=Optional(Number(0, nullable=True)),
                content=Optional(Text(FILE_BASE64_CHARS, cut=False, nullable=True)),
                truncated=Optional(Flag(nullable=True)),
                error=OPTIONAL_ERROR,
            )
        ),
        stopped=Optional(Text(64, nullable=True)),
        unread=Optional(
            ListOf(record(path=Text(TEXT_CHARS), kind=Optional(Text(NAME_CHARS, nullable=True)), error=OPTIONAL_ERROR))
        ),
        ansi_code_page=Optional(Number(0, 65535, nullable=True)),
    ),
}


def malformed(op: object, problem: str) -> dict[str, object]:
    """The failure that replaces a malformed result: the op's failure with code MALFORMED_REPLY."""
    return {
        "op": op,
        "failed": True,
        "error": {"code": "MALFORMED_REPLY", "hresult": None, "message": problem},
    }


def check_result(operation: t.Mapping[str, t.Any], result: object, where: str) -> dict[str, t.Any]:
    """One op's result as the contract allows it, or its MALFORMED_REPLY failure (never an exception)."""
    op = operation.get("op")
    try:
        if not isinstance(result, dict):
            raise MalformedReply(where, f"expected a dictionary, got {_kind(result)}")
        if result.get("op") != op:
            raise MalformedReply(f"{where}.op", f"expected {op}, got {_kind(result.get('op'))} that is not it")
        failed = Flag().check(result.get("failed"), f"{where}.failed")
        if failed:
            error = ERROR.check(result.get("error"), f"{where}.error")
            return {"op": op, "failed": True, "error": error}
        shape = RESULT_SHAPES.get(str(op))
        if shape is None:
            raise MalformedReply(where, "an op this controller does not know")
        return {"op": op, "failed": False, **shape.checked(result, where)}
    except MalformedReply as problem:
        return malformed(op, str(problem))


def check_results(operations: t.Sequence[t.Mapping[str, t.Any]], results: object) -> list[dict[str, t.Any]]:
    """Every result of one wmi_state call, checked (see check_result). A reply that is not one result per operation
    cannot be matched to its operations: MalformedReply for the whole call."""
    if not isinstance(results, list):
        raise MalformedReply("results", f"expected a list, got {_kind(results)}")
    if len(results) != len(operations):
        raise MalformedReply("results", f"{len(results)} results for {len(operations)} operations")
    return [
        check_result(operation, result, f"results[{index}]")
        for index, (operation, result) in enumerate(zip(operations, results, strict=True))
    ]
