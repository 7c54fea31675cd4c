"""bridge.js may only use what the pinned @wppconnect/wa-js exports, and the simulator must
offer exactly that, with the same parameter lists.

The installed package's `.d.ts` files are the reference: this test follows their export
statements from `dist/index.d.ts` to each function the bridge calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from selenium import webdriver

from tests.simulator.browser import BRIDGE_JS, start_chrome, start_simulator
from tests.support.processes import ROOT
from tests.support.waiting import wait_until

DIST = ROOT / "session_host" / "bridge" / "node_modules" / "@wppconnect" / "wa-js" / "dist"
SIMULATOR_WPP = ROOT / "simulator" / "static" / "wpp.js"
IDENT = r"[A-Za-z_$][\w$]*"


def test_the_pinned_wa_js_bundle_is_installed():
    # `make test` installs it; without it the surface checks below would prove nothing.
    assert (DIST / "wppconnect-wa.js").is_file(), "run `make bundle` to install @wppconnect/wa-js"


@dataclass(frozen=True)
class Export:
    """One exported name: a namespace (a module file), a function (with arity) or a value."""

    kind: str
    module: Path | None = None
    params: int = 0
    required: int = 0


def _module(base: Path, spec: str) -> Path:
    target = (base.parent / spec).resolve()
    for candidate in (target.with_name(target.name + ".d.ts"), target / "index.d.ts"):
        if candidate.is_file():
            return candidate
    raise AssertionError(f"cannot resolve {spec!r} from {base}")


def _balanced(text: str, start: int) -> str:
    """Return the text inside the parenthesis that opens at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1 : i]
    raise AssertionError("unbalanced parentheses")


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text.replace("=>", "~"):
        depth += {"(": 1, "[": 1, "{": 1, "<": 1, ")": -1, "]": -1, "}": -1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


@cache
def exports(path: Path) -> dict[str, Export]:
    """Return the names a `.d.ts` module exports."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    found: dict[str, Export] = {}
    imported = {m[0]: m[1] for m in re.findall(rf"import \* as ({IDENT}) from '([^']+)'", text)}
    for name, spec in re.findall(rf"export \* as ({IDENT}) from '([^']+)'", text):
        found[name] = Export("namespace", _module(path, spec))
    for spec in re.findall(r"export \* from '([^']+)'", text):
        found.update({k: v for k, v in exports(_module(path, spec)).items() if k not in found})
    for names, spec in re.findall(r"export \{([^}]*)\}(?: from '([^']+)')?", text):
        for item in _split_top_level(names):
            original, _, alias = item.removeprefix("type ").partition(" as ")
            original, alias = original.strip(), (alias or original).strip()
            if spec:
                source = exports(_module(path, spec))
                if original in source:
                    found[alias] = source[original]
            elif original in imported:
                found[alias] = Export("namespace", _module(path, imported[original]))
    for match in re.finditer(rf"export declare function ({IDENT})(?:<[^(]*>)?\(", text):
        params = _split_top_level(_balanced(text, match.end() - 1))
        required = sum(1 for p in params if not p.startswith("...") and "?" not in p.split(":")[0])
        old = found.get(match.group(1))
        if old and old.kind == "function":  # overloads: the widest parameter list
            params = params if len(params) > old.params else [""] * old.params
            required = min(required, old.required)
        found[match.group(1)] = Export("function", params=len(params), required=required)
    for name in re.findall(rf"export declare (?:const|let|var|class|enum) ({IDENT})", text):
        found.setdefault(name, Export("value"))
    return found


def resolve(path: str) -> Export:
    """Resolve `conn.getAuthCode` from the package's root module."""
    module = DIST / "index.d.ts"
    parts = path.split(".")
    for i, part in enumerate(parts):
        export = exports(module).get(part)
        assert export is not None, f"WPP.{path}: {part!r} is not exported by {module.relative_to(DIST)}"
        if i == len(parts) - 1:
            return export
        assert export.kind == "namespace", f"WPP.{'.'.join(parts[: i + 1])} is not a namespace"
        module = export.module


@cache
def event_names() -> set[str]:
    """Return every event name declared in the package's event type maps."""
    names: set[str] = set()
    for file in DIST.rglob("*.d.ts"):
        if "event" in file.name.lower():
            names.update(re.findall(r"^\s*'([a-z_]+\.[a-z_]+)'\??:", file.read_text(), flags=re.M))
    return names


@dataclass(frozen=True)
class Usage:
    """What bridge.js touches on WPP: calls with their argument counts, properties, events."""

    calls: dict[str, set[int]]
    properties: set[str]
    events: set[str]


def bridge_usage(source: str | None = None) -> Usage:
    """Parse bridge.js for every `WPP.<path>` it calls or reads and every event it listens to."""
    text = BRIDGE_JS.read_text() if source is None else source
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"(^|\s)//[^\n]*", r"\1", text)
    text = re.sub(r"\s*\n\s*\.", ".", text)  # join chained calls split over lines
    calls: dict[str, set[int]] = {}
    properties: set[str] = set()
    for match in re.finditer(rf"(?<![\w.])WPP((?:\.{IDENT})+)(\s*\()?", text):
        path = match.group(1)[1:]
        if match.group(2):
            args = _split_top_level(_balanced(text, match.end() - 1))
            calls.setdefault(path, set()).add(len(args))
        else:
            properties.add(path)
    events = set(re.findall(r"(?<![\w.])WPP\.(?:on|off)\(\s*[\"']([\w.]+)[\"']", text))
    return Usage(calls, properties, events)


def test_the_parser_sees_what_the_bridge_obviously_uses() -> None:
    usage = bridge_usage()

    assert {"chat.sendTextMessage", "chat.sendFileMessage", "conn.getAuthCode", "on"} <= set(usage.calls)
    assert "isReady" in usage.properties
    assert {"chat.new_message", "conn.auth_code_change", "conn.logout"} <= usage.events
    assert resolve("chat.sendTextMessage") == Export("function", params=3, required=2)
    assert resolve("conn.genLinkDeviceCodeForPhoneNumber") == Export("function", params=2, required=1)
    with pytest.raises(AssertionError, match="not exported"):
        resolve("conn.sendTextMessage")


def surface_problems(usage: Usage) -> list[str]:
    """List every call, property or event in `usage` that the installed wa-js does not offer."""
    problems = []
    for path, arg_counts in sorted(usage.calls.items()):
        try:
            export = resolve(path)
        except AssertionError as exc:
            problems.append(str(exc))
            continue
        if export.kind == "function":
            bad = sorted(n for n in arg_counts if not export.required <= n <= export.params)
            if bad:
                problems.append(f"WPP.{path} called with {bad} arguments, declared {export}")
        elif export.kind != "value":  # exported callables such as `on` are typed consts
            problems.append(f"WPP.{path} is a {export.kind}, not a function")
    for path in sorted(usage.properties):
        try:
            resolve(path)
        except AssertionError as exc:
            problems.append(str(exc))
    problems.extend(f"event {name!r} is not declared" for name in sorted(usage.events - event_names()))
    return problems


def test_the_check_catches_what_wa_js_does_not_offer() -> None:
    fake = """
        WPP.conn.sendTextMessage("x");       // wrong namespace
        WPP.chat.sendTextMessage("x");       // too few arguments
        WPP.chat.markIsPaused("x", 1, 2);    // too many
        if (WPP.isBooted) {}                 // no such property
        WPP.on("conn.exploded", function () {});
    """

    problems = surface_problems(bridge_usage(fake))

    assert len(problems) == 5, problems


def test_bridge_js_uses_only_what_wa_js_exports() -> None:
    assert surface_problems(bridge_usage()) == []


# --- the simulator offers the same surface ------------------------------------------------


@pytest.fixture(scope="module")
def simulator_page(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Open the simulator page in Chromium (WPP defined, no bridge)."""
    process, url = start_simulator(run_dir)
    driver = start_chrome(tmp_path_factory.mktemp("surface-profile"))
    try:
        driver.get(url + "/")
        wait_until(lambda: driver.execute_script("return window.WPP && window.WPP.isReady"), 10)
        yield driver
    finally:
        driver.quit()
        process.stop()


@pytest.mark.e2e
def test_the_simulator_implements_the_bridge_surface_with_the_same_parameters(
    simulator_page: webdriver.Chrome,
) -> None:
    usage = bridge_usage()
    describe = """
        return arguments[0].map(function (path) {
          var value = path.split('.').reduce(function (o, k) { return o == null ? o : o[k]; }, window.WPP);
          return [path, typeof value, typeof value === 'function' ? value.length : null];
        });
    """
    paths = sorted(set(usage.calls) | usage.properties)
    found = {path: (kind, length) for path, kind, length in simulator_page.execute_script(describe, paths)}

    for path in usage.calls:
        export = resolve(path)
        assert found[path][0] == "function", f"simulator lacks WPP.{path}"
        if export.kind == "function":
            assert found[path][1] == export.params, (
                f"WPP.{path}: simulator takes {found[path][1]}, wa-js {export}"
            )
    for path in usage.properties:
        assert found[path][0] != "undefined", f"simulator lacks WPP.{path}"


def test_the_simulator_fires_every_event_the_bridge_listens_to() -> None:
    source = SIMULATOR_WPP.read_text()
    emitted = set(re.findall(r"emit\(\s*\"([\w.]+)\"", source))

    assert bridge_usage().events - emitted == set()
