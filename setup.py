"""The one build step pyproject.toml cannot say: ship ``src/tarash_gateway.pth``.

That file, installed into site-packages, switches HTTP-level recording on at interpreter
start when ``TARASH_CASSETTE`` is set, so an app that never imports tarash is covered
(as coverage.py does with ``COVERAGE_PROCESS_START``); unset, it costs one environment
lookup. A ``.pth`` must sit at the top of site-packages, which package data cannot
reach: ``build_py`` copies it there, for wheels and for editable installs
(``pip install -e .``, whose wheel holds no build files: the file goes beside the
editable finder instead).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = Path(__file__).resolve().parent / "src" / "tarash_gateway.pth"


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            target = self.get_finalized_command("install").install_lib
        else:
            target = self.build_lib
        self.copy_file(str(PTH), str(Path(target) / PTH.name), preserve_mode=False)


setup(cmdclass={"build_py": BuildPyWithPth})
