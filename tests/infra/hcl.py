"""Read the Terraform tree with python-hcl2 and answer the questions the infra tests ask."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

TERRAFORM = Path(__file__).resolve().parents[2] / "infra" / "terraform"
MODULES = TERRAFORM / "modules"
ENVS = TERRAFORM / "envs"
STANDARD_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf")
# Arguments of a module block that are Terraform's, not the module's variables.
META_ARGUMENTS = {"source", "version", "providers", "depends_on", "count", "for_each"}


def unquote(value: Any) -> Any:
    """Turn python-hcl2's quoted string literal `"x"` into `x`; leave expressions alone."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@cache
def load(path: Path) -> dict[str, Any]:
    """Parse one .tf file."""
    with path.open() as handle:
        return hcl2.load(handle)


def module_dirs() -> list[Path]:
    """Every module directory."""
    return sorted(p for p in MODULES.iterdir() if p.is_dir())


def env_dirs() -> list[Path]:
    """Every environment directory."""
    return sorted(p for p in ENVS.iterdir() if p.is_dir())


def blocks(directory: Path, kind: str) -> Iterator[tuple[str, dict[str, Any], Path]]:
    """Yield (name, body, file) of every `kind` block (variable, output, module, locals...) in a directory."""
    for path in sorted(directory.glob("*.tf")):
        for entry in load(path).get(kind, []):
            for name, body in entry.items():
                yield unquote(name), body, path


def resources(directory: Path, resource_type: str) -> list[dict[str, Any]]:
    """Bodies of every resource of one type declared in a directory."""
    found = []
    for path in sorted(directory.glob("*.tf")):
        for entry in load(path).get("resource", []):
            for rtype, named in entry.items():
                if unquote(rtype) == resource_type:
                    found.extend(named.values())
    return found


@dataclass(frozen=True)
class Variable:
    """One declared input of a module or environment."""

    name: str
    body: dict[str, Any]

    @property
    def required(self) -> bool:
        """True when callers must pass it (no default)."""
        return "default" not in self.body

    @property
    def default(self) -> Any:
        """The default, unquoted."""
        return unquote(self.body.get("default"))


def variables(directory: Path) -> dict[str, Variable]:
    """Declared variables of a directory by name."""
    return {name: Variable(name, body) for name, body, _ in blocks(directory, "variable")}


def module_calls(directory: Path) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """Yield (call name, resolved source directory, arguments) of every local module call."""
    for name, body, _ in blocks(directory, "module"):
        source = unquote(body["source"])
        yield (
            name,
            (directory / source).resolve(),
            {k: v for k, v in body.items() if k not in META_ARGUMENTS and not k.startswith("__")},
        )


def resolve_number(value: Any, directory: Path) -> Any:
    """Resolve a literal number or a plain `${var.x}` reference to that variable's default."""
    if isinstance(value, str) and value.startswith("${var.") and value.endswith("}"):
        return variables(directory)[value[len("${var.") : -1]].default
    return unquote(value)
