"""Build hook: ship the course's run-time files inside the wheel (the rest is in pyproject.toml).

A chapter or an exercise needs more than the Python modules: the checked corpora and
Fashion-MNIST (data/), the committed checkpoints, the benchmark records that chapters plot,
and, for `python -m attention_course.workspace`, the chapter and student notebooks. The
repository keeps them at its top level, where `make data`, the training tools and nbgrader
write them, so at build time they are copied into the package as
attention_course/_resources/<same path>, which attention_course.runtime reads when it is not
inside a checkout. Folders are matched by glob, so a new checkpoint or record is picked up
without editing this file. Instructor material (solutions/, tests/, nbgrader_config.py) is
never matched.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: (folder, glob patterns) of the repository's run-time files; MANIFEST.in lists the same for sdists.
RESOURCES = [
    ("data", ["SHA256SUMS", "bible/*.tsv.gz", "fashion_mnist/*.gz"]),
    ("checkpoints", ["*.safetensors", "*.txt"]),
    ("benchmarks", ["**/*.json", "translation/*.greedy.txt"]),
    ("book", ["*.ipynb"]),
    ("exercises", ["*/*.ipynb"]),
]
#: Without these the package cannot run a chapter: fail the build rather than ship it broken.
REQUIRED = ["data/SHA256SUMS", "exercises", "book"]


def resource_files(root: Path = HERE) -> list[Path]:
    """The run-time files under `root`, relative to it, sorted."""
    for name in REQUIRED:
        if not (root / name).exists():
            raise SystemExit(f"cannot build the course package: {root / name} is missing "
                             "(build from a full checkout of the course repository)")
    found = set()
    for folder, patterns in RESOURCES:
        for pattern in patterns:
            found.update(p.relative_to(root) for p in (root / folder).glob(pattern) if p.is_file())
    return sorted(found)


class BuildWithResources(build_py):
    def run(self):
        super().run()
        # An editable install imports the package from the checkout, whose files runtime.py
        # finds directly: a copy there would only go stale.
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "attention_course" / "_resources"
        # build/ outlives a build: without this, a file removed from the repository would
        # still ship in the next wheel.
        if target.exists():
            shutil.rmtree(target)
        for rel in resource_files():
            self.mkpath(str((target / rel).parent))
            self.copy_file(str(HERE / rel), str(target / rel), preserve_mode=False)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib) / "attention_course" / "_resources"
        return outputs + [str(target / rel) for rel in resource_files()]


setup(cmdclass={"build_py": BuildWithResources})
