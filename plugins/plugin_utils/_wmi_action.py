# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base class every winsec.wmi action plugin shares.

It validates the task's arguments on the controller against the module's own DOCUMENTATION (one spec, shared by
code and docs), refuses non-Windows connections, calls the target primitive winsec.wmi.wmi_state (one
``_execute_module`` call per round trip), turns the target's errors into named errors, and restores the user's
``invocation.module_args``. Subclasses implement ``run_wmi`` and only plan and shape results.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import abc
import copy
import typing as t
from dataclasses import dataclass

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.validation import (
    check_mutually_exclusive,
    check_required_if,
    check_required_one_of,
    check_required_together,
)
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ._argspec import argspec_from_doc, documented_options
from ._text import console_text, plain_data, truncate_for_message
from ._wmi_errors import WmiActionError, op_value
from ._wmi_state_contract import WRITE_OPS

WMI_STATE = "winsec.wmi.wmi_state"
VALIDATION_MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class OptionSpec:
    """The options of one dictionary (an argument spec) and the rules between them, as an action plugin declares
    them. An option that takes another module's options (the baseline's namespace_sds items are
    winsec.wmi.namespace_sd's options) is checked with that module's OptionSpec, so the two never drift."""

    options: t.Mapping[str, t.Mapping[str, t.Any]]
    mutually_exclusive: t.Sequence[t.Sequence[str]] = ()
    required_one_of: t.Sequence[t.Sequence[str]] = ()
    required_together: t.Sequence[t.Sequence[str]] = ()
    required_if: t.Sequence[t.Sequence[t.Any]] = ()

    @classmethod
    def of_action(cls, action: type[WmiAction]) -> OptionSpec:
        """A module's options and rules, from its action plugin (the DOCUMENTATION and the class's rules)."""
        return cls(
            argspec_from_doc(action.DOCUMENTATION),
            mutually_exclusive=action.MUTUALLY_EXCLUSIVE,
            required_one_of=action.REQUIRED_ONE_OF,
            required_together=action.REQUIRED_TOGETHER,
            required_if=action.REQUIRED_IF,
        )


def _type_name(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, t.Mapping):
        return "a dictionary"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _shape_errors(entry: t.Mapping[str, t.Any], value: t.Any, where: str) -> list[str]:
    """What ansible's type conversion would silently accept: a list or dictionary turned into its Python text
    (a namespace given as [root] became "['root']", which matches nothing) and a string parsed as 'k=v' where a
    dictionary is expected."""
    wanted = entry.get("type", "str")
    if value is None:
        # Ansible keeps a null only where the default is null; elsewhere it fails with a Python type name.
        return (
            [] if entry.get("default") is None else [f"{where}: expected a {wanted}, got null; leave it out instead."]
        )
    if wanted == "str" and isinstance(value, (t.Mapping, list)):
        return [f"{where}: expected a string, got {_type_name(value)}."]
    if wanted == "dict" and not isinstance(value, t.Mapping):
        return [f"{where}: expected a dictionary of options, got {_type_name(value)}."]
    if wanted == "list" and isinstance(value, list):
        element = entry.get("elements")
        for index, item in enumerate(value):
            if element == "str" and isinstance(item, (t.Mapping, list)):
                return [f"{where}[{index}]: expected a string, got {_type_name(item)}."]
            if element == "str" and item is None:
                return [f"{where}[{index}]: expected a string, got null."]
            if element == "dict" and not isinstance(item, t.Mapping):
                return [f"{where}[{index}]: expected a dictionary of options, got {_type_name(item)}."]
    return []


def validate_option(
    name: str, entry: t.Mapping[str, t.Any], given: t.Mapping[str, t.Any], where: str, sub: OptionSpec | None
) -> tuple[t.Any, list[str]]:
    """Validate one option of the dictionary ``given`` (its value, or its absence) and, below it, every item of its
    sub-options, naming each error by its path (``namespace_sds[1].aces[0].principal: ...``).

    Ansible's ArgumentSpecValidator converts and checks the value ("false" -> False, choices, types); on top of it, a
    required option given as null or empty is missing (ansible would turn null into "" and accept it), and
    containers are never converted to strings (see _shape_errors)."""
    if sub is None and "options" in entry:
        sub = OptionSpec(entry["options"])
    value = given.get(name)
    if entry.get("required") and (value is None or (isinstance(value, str) and not value.strip())):
        shown = "missing" if name not in given else ("null" if value is None else "empty")
        return None, [f"{where}: give a {name}; it is required and was {shown}."]
    errors = _shape_errors(entry, value, where) if name in given else []
    if errors:
        return None, errors
    flat = {key: copy.deepcopy(item) for key, item in entry.items() if key != "options"}
    outcome = ArgumentSpecValidator({name: flat}).validate({name: value} if name in given else {})
    if outcome.error_messages:
        return None, [f"{where}: {message}" for message in outcome.error_messages]
    result = outcome.validated_parameters.get(name)
    if sub is None or result is None:
        return result, []
    if isinstance(result, list):
        items, errors = [], []
        for index, item in enumerate(result):
            checked, item_errors = validate_options(sub, item, f"{where}[{index}]")
            items.append(checked)
            errors.extend(item_errors)
        return items, errors
    return validate_options(sub, result, where)


def validate_options(spec: OptionSpec, given: t.Any, where: str) -> tuple[dict[str, t.Any], list[str]]:
    """Validate a dictionary of options against ``spec``; every error names its path below ``where``."""
    if not isinstance(given, t.Mapping):
        return {}, [f"{where}: expected a dictionary of options, got {_type_name(given)}."]
    errors = [
        f"{where}.{key}: unsupported option; supported: {', '.join(sorted(spec.options))}."
        for key in sorted(set(given) - set(spec.options), key=str)
    ]
    validated: dict[str, t.Any] = {}
    for name, entry in spec.options.items():
        validated[name], option_errors = validate_option(name, entry, given, f"{where}.{name}", None)
        errors.extend(option_errors)
    # The rules between options count only the options given a value: a null is not given (as for the module);
    # required_if compares values, so it sees the defaults too.
    given_values = {key: value for key, value in given.items() if value is not None}
    values = {key: value for key, value in validated.items() if value is not None}
    for check, rules, parameters in (
        (check_mutually_exclusive, spec.mutually_exclusive, given_values),
        (check_required_one_of, spec.required_one_of, given_values),
        (check_required_together, spec.required_together, given_values),
        (check_required_if, spec.required_if, values),
    ):
        if rules:
            try:
                check(rules, parameters)
            except TypeError as exc:
                errors.append(f"{where}: {exc}")
    return validated, errors


class WmiAction(ActionBase, metaclass=abc.ABCMeta):
    """Base of the winsec.wmi action plugins (a microsoft.ad-style private base class)."""

    TRANSFERS_FILES = False
    _requires_connection = True

    # The module's DOCUMENTATION (YAML text); its options are the argument spec.
    DOCUMENTATION: t.ClassVar[str] = ""
    MUTUALLY_EXCLUSIVE: t.ClassVar[list[list[str]]] = []
    REQUIRED_ONE_OF: t.ClassVar[list[list[str]]] = []
    REQUIRED_IF: t.ClassVar[list[tuple[str, t.Any, list[str]]]] = []
    REQUIRED_TOGETHER: t.ClassVar[list[list[str]]] = []

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Parsed when the class is defined: ansible-playbook's strategy loads each task's action class in the main
        # process (linear strategy, action_loader.get(..., class_only=True)) before it forks a worker per host and
        # task, so every worker inherits the parse instead of paying it again.
        if cls.DOCUMENTATION:
            documented_options(cls.DOCUMENTATION)

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        # Async would wrap wmi_state in async_wrapper.ps1 and poll with ansible.windows.async_status, a dependency
        # this collection does not have; the calls are short, so async is refused outright.
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        self._wmi_task_vars = task_vars or {}
        self.round_trips = 0
        self._target_warnings: list[str] = []

        user_args = plain_data(self.arguments(self._wmi_task_vars))
        validated, no_log_values, error = self._validate(user_args)
        invocation_args = remove_values(validated if error is None else user_args, no_log_values)
        try:
            if error is not None:
                raise WmiActionError(error)
            if not getattr(self._connection._shell, "_IS_WINDOWS", False):
                raise WmiActionError(
                    f"{self._task.action} manages Windows hosts only: connect with ansible.builtin.winrm or "
                    "ansible.builtin.psrp (or ssh with the powershell shell); this connection's shell is not Windows."
                )
            module_result = self.run_wmi(validated)
        except WmiActionError as failure:
            module_result = failure.to_result()
        module_result.setdefault("changed", False)

        warnings = list(module_result.pop("warnings", [])) + self._target_warnings
        result.update(module_result)
        # The console shows msg and warnings as they are: every one passes the one sanitizer, since host names and
        # host text reach them (an ESC or U+202E in a consumer's name must not clear the screen or forge a line).
        if isinstance(result.get("msg"), str):
            result["msg"] = console_text(result["msg"])
        if warnings:
            result["warnings"] = [console_text(warning) for warning in warnings]
        # The user's arguments, not the wmi_state operations that carried them (cf. ansible.windows win_powershell).
        result["invocation"] = {"module_args": invocation_args}
        return result

    def arguments(self, task_vars: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """The module's arguments: the task's (a subclass may add some from the host's variables)."""
        del task_vars
        return dict(self._task.args)

    def nested_options(self) -> dict[str, OptionSpec | None]:
        """Options whose items are validated one by one, each error naming its path (``namespace_sds[1].mode``):
        name -> the OptionSpec of another module whose options they are, or None for the DOCUMENTATION's own
        sub-options. None by default: ansible's validator checks the sub-options."""
        return {}

    def _validate(self, args: dict[str, t.Any]) -> tuple[dict[str, t.Any], set[str], str | None]:
        spec = argspec_from_doc(self.DOCUMENTATION)
        nested = {name: sub for name, sub in self.nested_options().items() if name in spec}
        # Passed through as given here, then checked item by item below.
        top_level = {
            name: {"type": "raw", "default": entry.get("default")} if name in nested else entry
            for name, entry in spec.items()
        }
        validator = ArgumentSpecValidator(
            top_level,
            mutually_exclusive=self.MUTUALLY_EXCLUSIVE or None,
            required_together=self.REQUIRED_TOGETHER or None,
            required_one_of=self.REQUIRED_ONE_OF or None,
            required_if=self.REQUIRED_IF or None,
        )
        outcome = validator.validate(args)
        no_log_values = set(outcome._no_log_values)
        if outcome.error_messages:
            msg = outcome.errors.msg
            if isinstance(outcome.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({self._task.action}) module: {msg}"
            # The validator quotes the offending value: a 100,000-character argument must not come back whole.
            return args, no_log_values, truncate_for_message(msg, VALIDATION_MESSAGE_LIMIT)
        validated = outcome.validated_parameters
        errors: list[str] = []
        for name, sub in nested.items():
            validated[name], option_errors = validate_option(name, spec[name], args, name, sub)
            errors.extend(option_errors)
        if errors:
            return args, no_log_values, truncate_for_message("; ".join(errors), VALIDATION_MESSAGE_LIMIT)
        return validated, no_log_values, None

    @property
    def check_mode(self) -> bool:
        return bool(self._task.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(self._task.diff)

    def wmi_call(self, operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        """One round trip: run the operations with winsec.wmi.wmi_state and return one result per operation."""
        self.round_trips += 1
        writes = [operation for operation in operations if operation.get("op") in WRITE_OPS]
        try:
            reply = self._execute_module(
                module_name=WMI_STATE,
                module_args={"operations": operations},
                task_vars=self._wmi_task_vars,
            )
        except Exception as exc:
            if not writes:
                raise  # a read that never arrived: the host is unreachable, as Ansible reports it
            # The writes were sent; whether the host applied them before the connection broke is unknown.
            targets = ", ".join(sorted({str(op.get("namespace") or op.get("value") or op.get("op")) for op in writes}))
            raise WmiActionError(
                f"The connection to the host failed after {len(writes)} write(s) were sent ({targets}): "
                f"{type(exc).__name__}: {truncate_for_message(str(exc))}. The host may or may not have applied "
                "them. Nothing is retried; run the same task in check mode (or the audit) to see the host's state "
                "now, then run it again: every write carries the state it expects to replace, so a re-run never "
                "overwrites a change it did not see.",
                writes_sent=len(writes),
                write_outcome="unknown",
            ) from exc
        reply.pop("invocation", None)
        target_warnings = reply.get("warnings") or []
        if not isinstance(target_warnings, list):
            target_warnings = [f"{WMI_STATE} returned warnings that are not a list: {target_warnings!r:.200}"]
        self._target_warnings.extend(console_text(warning) for warning in target_warnings)
        results = reply.get("results")
        if reply.get("failed") or not isinstance(results, list):
            detail = {key: reply[key] for key in ("exception", "module_stdout", "module_stderr", "rc") if key in reply}
            raise WmiActionError(
                f"{WMI_STATE} failed on the host: {console_text(reply.get('msg') or 'no result returned', 1000)}",
                target_result=detail,
            )
        if len(results) != len(operations):
            raise WmiActionError(
                f"{WMI_STATE} returned {len(results)} results for {len(operations)} operations",
                target_result={"results": results},
            )
        return results

    op_value = staticmethod(op_value)

    @abc.abstractmethod
    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        """Plan, call the target through wmi_call, and return the module result."""
