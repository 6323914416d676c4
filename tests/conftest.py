"""Shared fixtures: both backends, the reference corpora, small texts.

The library reads reference data only where $SUBTOK_DATA points; the tests point it at the workspace's
shared corpora (../shared/corpora beside the checkout) when the caller has not set it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
if "SUBTOK_DATA" not in os.environ and (SHARED / "corpora").is_dir():
    os.environ["SUBTOK_DATA"] = str(SHARED / "corpora")

from subtok import _backend  # noqa: E402
from subtok.datasets import data_dir  # noqa: E402

settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("deep", max_examples=1000, deadline=None)  # SUBTOK_HYPOTHESIS=deep: a long search
settings.load_profile(os.environ.get("SUBTOK_HYPOTHESIS") or ("ci" if os.environ.get("CI") else "dev"))

BACKENDS = ["python", "native"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test once on the pure-Python reference and once on the native core."""
    if request.param == "native" and _backend._native is None:
        pytest.skip("native extension not built")
    with _backend.using(request.param):
        yield request.param


@pytest.fixture(scope="session")
def shared_data():
    path = data_dir()
    if path is None or not path.is_dir():
        pytest.skip("reference corpora not found (set SUBTOK_DATA)")
    return path


SAMPLE_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Tokenizers split rare words into frequent pieces; the pieces are shared.",
    "안녕하세요, 세계! 토크나이저는 단어를 조각으로 나눕니다.",
    "Ünïcödé wörds, naïve café, 東京 and emoji 🙂🙃 mix with numbers 12345 and 3.14.",
    "  leading spaces, tabs\tand\nnew lines\n\n  matter for byte-level BPE  ",
    "it's they're we've I'm you'll he'd -- punctuation!!! (parentheses) [brackets] {braces}",
] * 20
