"""Schemathesis (a fuzzer we did not write) against the served OpenAPI document: no 5xx,
no status code, body or content type the document does not describe. Bounded to a few minutes
(``SCHEMATHESIS_MAX_TIME``, default 240 s). Run with ``pytest -m schemathesis``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.security.conftest import Hostile

pytestmark = pytest.mark.schemathesis


def test_no_server_errors_and_only_documented_responses(hostile: Hostile) -> None:
    st = shutil.which("st", path=os.path.dirname(sys.executable)) or shutil.which("st")
    if st is None:
        pytest.fail("schemathesis is not installed (pip install schemathesis)")
    max_time = os.environ.get("SCHEMATHESIS_MAX_TIME", "240")
    cmd = [
        st,
        "run",
        f"{hostile.base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {hostile.admin_key}",
        "--checks",
        "not_a_server_error,status_code_conformance,"
        "response_schema_conformance,content_type_conformance",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"),
        "--max-time",
        max_time,
        "--request-timeout",
        "30",
        "--generation-deterministic",
        "--no-color",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=int(max_time) + 240)
    report = out.stdout[-6000:] + out.stderr[-2000:]
    assert out.returncode == 0, report
    assert "not_a_server_error" in report or "passed" in report.lower(), report
