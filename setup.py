"""Builds the optional C core (subtok._native). Without a compiler the build says so and installs the
pure-Python package, which gives identical results, only slower."""

import os

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
        print(f"subtok: the C extension was not built ({e}); installing the pure-Python backend")


CFLAGS = ["-O3", "-std=c11"] if os.name != "nt" else []
CFLAGS += os.environ.get("SUBTOK_EXTRA_CFLAGS", "").split()

setup(
    ext_modules=[
        Extension(
            "subtok._native",
            sources=["subtok/_native/bpe.c"],
            extra_compile_args=CFLAGS,
            extra_link_args=os.environ.get("SUBTOK_EXTRA_LDFLAGS", "").split(),
        )
    ],
    cmdclass={"build_ext": OptionalBuildExt},
)
