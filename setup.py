"""Builds the optional C core (subtok._native) from subtok/csrc/module.c, which includes the other files.

Without a compiler the build says so and installs the pure-Python package, which gives identical results,
only slower. SUBTOK_BUILD_NATIVE=0 skips the extension on purpose (CI tests that install too);
SUBTOK_REQUIRE_NATIVE=1 makes a failed build an error instead.
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self):
        try:
            super().run()
        except Exception as e:  # no compiler, no headers: fall back to pure Python
            self._skip(e)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            self._skip(e)

    def _skip(self, e):
        if os.environ.get("SUBTOK_REQUIRE_NATIVE"):
            raise e
        # pip shows a build's output only on failure or with -v; the package still works without the core
        print(f"subtok: the C extension was not built ({e}); installing the pure-Python backend", file=sys.stderr)


CFLAGS = ["-O3", "-std=c11"] if os.name != "nt" else []
CFLAGS += os.environ.get("SUBTOK_EXTRA_CFLAGS", "").split()
BUILD_NATIVE = os.environ.get("SUBTOK_BUILD_NATIVE", "1") not in ("0", "")
CSRC = "subtok/csrc"

setup(
    ext_modules=[
        Extension(
            "subtok._native",
            sources=[f"{CSRC}/module.c"],
            depends=[f"{CSRC}/{name}" for name in sorted(os.listdir(CSRC)) if name != "module.c"],
            extra_compile_args=CFLAGS,
            extra_link_args=os.environ.get("SUBTOK_EXTRA_LDFLAGS", "").split(),
        )
    ]
    if BUILD_NATIVE
    else [],
    cmdclass={"build_ext": OptionalBuildExt},
)
