"""The native core under AddressSanitizer and UndefinedBehaviorSanitizer: the native tests and a short fuzz
run (tests/sanitize.sh) must finish without a report. Skipped without gcc or its sanitizer runtimes."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from subtok import _backend

ROOT = Path(__file__).resolve().parents[1]


def _runtime(name: str) -> bool:
    if shutil.which("gcc") is None:
        return False
    found = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    return os.path.isabs(found) and os.path.exists(found)


@pytest.mark.skipif(_backend._native is None, reason="native extension not built or disabled")
@pytest.mark.skipif(not (_runtime("libasan.so") and _runtime("libubsan.so")), reason="no gcc sanitizer runtimes")
def test_native_core_is_clean_under_sanitizers():
    res = subprocess.run(
        ["bash", str(ROOT / "tests" / "sanitize.sh"), "15"], capture_output=True, text=True, timeout=600
    )
    report = (res.stdout + res.stderr)[-6000:]
    assert res.returncode == 0, report
    assert "runtime error" not in report and "AddressSanitizer" not in report
    assert "no mismatch" in res.stdout
