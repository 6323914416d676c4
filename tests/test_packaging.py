"""The package without its compiled core: it imports and works (pure Python), and a stale, foreign or
half-built core is ignored rather than half used. Run on a copy of the package in a fresh interpreter."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

import subtok

PACKAGE = Path(subtok.__file__).resolve().parent
WORKS = """
import warnings
warnings.simplefilter("error")  # no warning unless the test expects one
import subtok, subtok._backend as backend
assert backend._native is None and not subtok.native_available(), backend._native
tok = subtok.Tokenizer.train(["a b c d"] * 20, vocab_size=262)
assert tok.decode(tok.encode("a b").ids) == "a b"
print("ok")
"""


def _copy_without_core(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "subtok", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    return tmp_path


def _run(where: Path, code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter that sees the copy at ``where`` and the installed dependencies, but
    no .pth hooks (-S), so an editable install of the source tree cannot lend the copy its compiled core."""
    env = {k: v for k, v in os.environ.items() if k not in ("SUBTOK_NO_NATIVE", "PYTHONPATH")}
    env["PYTHONPATH"] = os.pathsep.join([str(where), *site.getsitepackages()])
    return subprocess.run([sys.executable, "-S", "-c", code], cwd=where, env=env, capture_output=True, text=True)


def test_imports_and_works_without_the_compiled_core(tmp_path):
    res = _run(_copy_without_core(tmp_path), WORKS)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


@pytest.mark.parametrize(
    "stand_in",
    [
        "folder",  # what once broke every import: a source folder named like the module
        "stale",  # a build of another version
    ],
)
def test_a_stand_in_for_the_core_is_ignored_with_a_warning(tmp_path, stand_in):
    where = _copy_without_core(tmp_path)
    if stand_in == "folder":
        (where / "subtok" / "_native").mkdir()
        (where / "subtok" / "_native" / "bpe.c").write_text("/* sources */\n")
    else:
        (where / "subtok" / "_native.py").write_text("ABI = -1\ntrain_merges = None\n")
    code = WORKS.replace('warnings.simplefilter("error")', 'warnings.simplefilter("always")')
    res = _run(where, code)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    assert "ignoring the compiled core" in res.stderr and "another version" in res.stderr


def test_types_and_version_ship_with_the_package():
    assert (PACKAGE / "py.typed").is_file()
    assert subtok.__version__ == importlib.metadata.version("subtok")
