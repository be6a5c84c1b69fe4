# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import fnmatch
import json
import os
import typing as t

from ansible.plugins.action import ActionBase
from ansible_collections.winsec.wmi.plugins.modules.script_audit import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_module
from ansible_collections.winsec.wmi.plugins.plugin_utils._script_audit import ScriptAudit, limit_message
from ansible_collections.winsec.wmi.plugins.plugin_utils._script_sarif import sarif_log
from ansible_collections.winsec.wmi.plugins.plugin_utils._script_scan import ScriptFile, scan_files
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import WmiAction
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError

COLLECTION_VERSION = "0.1.0"


def read_repository(
    src: str, patterns: t.Sequence[str], max_file_bytes: int, max_total_bytes: int, max_files: int
) -> tuple[list[ScriptFile], str | None]:
    """The script files under src (paths relative to it), read with the same budgets the host applies.

    Returns the files and why reading stopped early ('max_files', 'max_total_bytes' or None)."""
    if not os.path.exists(src):
        raise WmiActionError(f"src '{src}' does not exist on the controller")
    if os.path.isfile(src):
        candidates = [src]
        root = os.path.dirname(src)
    else:
        root = src
        candidates = []
        for directory, subdirectories, names in os.walk(src):
            subdirectories.sort()
            candidates.extend(
                os.path.join(directory, name)
                for name in sorted(names)
                if any(fnmatch.fnmatch(name.lower(), pattern.lower()) for pattern in patterns)
            )
    files: list[ScriptFile] = []
    total = 0
    for path in candidates:
        if len(files) >= max_files:
            return files, "max_files"
        relative = os.path.relpath(path, root).replace(os.sep, "/")
        size = os.path.getsize(path)
        if size > max_file_bytes:
            files.append(ScriptFile(relative, size, None, truncated=True))
            continue
        if total + size > max_total_bytes:
            files.append(ScriptFile(relative, size, None, error="BUDGET: not read, max_total_bytes reached"))
            return files, "max_total_bytes"
        try:
            with open(path, "rb") as handle:
                content = handle.read(max_file_bytes + 1)
        except OSError as exc:
            files.append(ScriptFile(relative, size, None, error=f"FILE: {exc.strerror or exc}"))
            continue
        total += len(content)
        files.append(ScriptFile(relative, len(content), content))
    return files, None


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION
    REQUIRED_ONE_OF: t.ClassVar[list[list[str]]] = [["paths", "src"]]
    MUTUALLY_EXCLUSIVE: t.ClassVar[list[list[str]]] = [["paths", "src"]]

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        if self._task.args.get("src") is None:
            return super().run(tmp, task_vars)
        # A repository on the controller: no Windows shell is needed and the connection is never used (winrm and
        # psrp connect lazily, on the first command), so this path skips the base class's Windows check.
        self._supports_check_mode = True
        self._supports_async = False
        result = ActionBase.run(self, tmp, task_vars)
        validated, no_log_values, error = self._validate(dict(self._task.args))
        try:
            if error is not None:
                raise WmiActionError(error)
            result.update(self.scan_repository(validated))
        except WmiActionError as failure:
            result.update(failure.to_result())
        result.setdefault("changed", False)
        result["invocation"] = {"module_args": validated if error is None else dict(self._task.args)}
        del no_log_values  # the module has no secret options
        return result

    def scan_repository(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        control = self._control(params)
        files, stopped = read_repository(
            params["src"], params["patterns"], params["max_file_bytes"], params["max_total_bytes"], params["max_files"]
        )
        scan = scan_files(files, lockdown=None, rules=control.rules, max_file_bytes=params["max_file_bytes"])
        limit = limit_message(stopped, params)
        if limit:
            scan.limits.append(limit)
        decision = control.decision(scan, lockdown=None)
        module_result = {"changed": False, **decision.result}
        if decision.warnings:
            module_result["warnings"] = decision.warnings
        self._write_sarif(params, module_result, source_root=params["src"])
        return module_result

    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        module_result = run_module(self, self._control(params))
        self._write_sarif(params, module_result, host=self._task_host())
        return module_result

    @staticmethod
    def _control(params: dict[str, t.Any]) -> ScriptAudit:
        rules = sorted(params["rules"] or [])
        if not rules:
            raise WmiActionError("rules must name at least one of: adsi, async")
        return ScriptAudit(
            params.get("paths") or [],
            params["patterns"],
            params["max_file_bytes"],
            params["max_total_bytes"],
            params["max_files"],
            rule_set=rules[0] if len(set(rules)) == 1 else "all",
        )

    def _task_host(self) -> str | None:
        return (getattr(self, "_wmi_task_vars", None) or {}).get("inventory_hostname")

    def _write_sarif(self, params: dict[str, t.Any], module_result: dict[str, t.Any], **where: t.Any) -> None:
        if not params.get("sarif_path"):
            return
        log = sarif_log(module_result["findings"], module_result["files"], version=COLLECTION_VERSION, **where)
        path = params["sarif_path"]
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(log, handle, indent=2)
        except OSError as exc:
            raise WmiActionError(f"cannot write the SARIF log to '{path}': {exc.strerror or exc}") from None
        module_result["sarif_path"] = path
