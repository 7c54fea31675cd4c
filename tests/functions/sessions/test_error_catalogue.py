"""The one error catalogue: every ApiError lives in functions.errors, once, and the README shows it."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys

import pytest

import functions
from functions import errors
from tests.support.processes import ROOT


def _import_every_functions_module() -> None:
    for module in pkgutil.walk_packages(functions.__path__, prefix="functions."):
        if module.name.startswith("functions.migrations"):
            continue  # Alembic revision scripts need Alembic's context
        importlib.import_module(module.name)


def _every_subclass(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _every_subclass(sub)
    return found


def test_every_api_error_subclass_is_in_the_catalogue_once():
    _import_every_functions_module()

    # when
    specs = errors.catalogue()

    # then: every subclass anywhere in functions/ is a row of its own, defined in functions.errors
    subclasses = _every_subclass(errors.ApiError) | {errors.ApiError}
    assert {spec.error for spec in specs} == subclasses
    assert all(spec.error.__module__ == "functions.errors" for spec in specs)
    codes = [spec.code for spec in specs]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z][A-Z_]+", code) for code in codes)
    assert all(spec.meaning and 400 <= spec.status <= 599 for spec in specs)


def test_a_subclass_outside_the_catalogue_module_is_refused():
    # a fresh interpreter, so the stray class does not outlive this test
    code = (
        "from functions import errors\n"
        "class Stray(errors.ApiError):\n"
        "    status, code = 418, 'STRAY'\n"
        "errors.catalogue()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1
    assert "TypeError: Stray belongs in functions.errors" in result.stderr


def test_the_readme_error_table_is_the_catalogue():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- errors:begin -->\n(.*?)\n<!-- errors:end -->", readme, flags=re.S)

    assert table is not None, "README.md lost its <!-- errors:begin/end --> markers"
    assert table.group(1) == errors.markdown_table(), "run `python -m functions.errors` and paste the table"


@pytest.mark.parametrize("spec", errors.catalogue(), ids=lambda spec: spec.code)
def test_every_error_renders_in_the_standard_envelope(make_app, spec):
    app = make_app()

    @app.get("/_raise")
    def _raise():
        raise spec.error("the message")

    response = app.test_client().get("/_raise", headers={"X-Request-Id": "req-catalogue"})

    assert response.status_code == spec.status
    assert response.get_json() == {
        "error": {"code": spec.code, "message": "the message", "traceId": "req-catalogue"}
    }
