"""Cold starts of the artifacts that `sam build` makes, loaded the way Lambda loads them.

Each function and layer is zipped by SAM's own packaging zipper (so every entry is dated
1980, as `sam package` dates it) and extracted with those dates into a function root
(`task`, Lambda's /var/task) and a merged layer root (`opt`, Lambda's /opt), then made
read-only. Each run is a fresh interpreter with `PYTHONDONTWRITEBYTECODE=1`, no site
packages, and Lambda's sys.path (task, opt/python/lib/python3.13/site-packages,
opt/python); it imports the handler and serves the first request against the emulator.
"""

import compileall
import json
import os
import py_compile
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from localdev.harness.defaults import PROJECT_ROOT

ARTIFACTS_DIR = PROJECT_ROOT / "build" / "bench" / "artifacts"
OUR_BUILD = PROJECT_ROOT / ".aws-sam" / "build-x86_64"
OUR_ARM64_BUILD = PROJECT_ROOT / ".aws-sam" / "build"
BARE_BUILD = PROJECT_ROOT / "build" / "bench" / "bare-build"
SAM_PYTHON = PROJECT_ROOT / ".venv-sam" / "bin" / "python"
# Lambda's interpreter has no site-packages of ours: the base interpreter under -S.
LAMBDA_LIKE_PYTHON = [getattr(sys, "_base_executable", sys.executable), "-S"]
CHILD_SCRIPT = PROJECT_ROOT / "benchmarks" / "child.py"


@dataclass(frozen=True)
class Deployment:
    """One function as Lambda lays it out: its code, and its layers merged in order."""

    task: Path
    opt: Path

    @property
    def python_path(self) -> str:
        site_packages = self.opt / "python" / "lib" / "python3.13" / "site-packages"
        return os.pathsep.join(str(path) for path in (self.task, site_packages, self.opt / "python"))

    def cold_start_ms(self, event_json: str, environment: dict[str, str]) -> float:
        completed = subprocess.run(  # noqa: S603 - our own script and arguments
            [*LAMBDA_LIKE_PYTHON, str(CHILD_SCRIPT), "artifact", event_json],
            env={**environment, "PYTHONPATH": self.python_path, "PYTHONDONTWRITEBYTECODE": "1"},
            cwd=self.task,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"cold start in {self.task.parent.name} failed: {completed.stderr[-2000:]}")
        result = completed.stdout.strip().splitlines()[-1]
        return float(json.loads(result)["ms"])

    def files(self) -> set[Path]:
        return {path for root in (self.task, self.opt) for path in root.rglob("*")}


def sam_zip(source: Path, zip_base: Path) -> Path:
    """The zip `sam package` would upload, made by SAM CLI's own function."""
    completed = subprocess.run(  # noqa: S603 - SAM CLI's python with our own arguments
        [
            str(SAM_PYTHON),
            "-c",
            "import sys; from samcli.lib.package.utils import make_zip_with_lambda_permissions as make_zip; "
            "print(make_zip(sys.argv[1], sys.argv[2]))",
            str(zip_base),
            str(source),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(completed.stdout.strip())


def extract_as_lambda(archive: Path, target: Path) -> None:
    """Extract keeping each entry's zip date: Python's zipfile would stamp them now."""
    with zipfile.ZipFile(archive) as opened:
        for info in opened.infolist():
            path = Path(opened.extract(info, target))
            dated = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(path, (dated, dated))


def _writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _read_only(root: Path) -> None:
    # Root ignores the mode bits: PYTHONDONTWRITEBYTECODE=1 is what keeps every run from
    # writing, and deploy() checks afterwards that nothing was written.
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def deploy(
    name: str, build: Path, function: str, layers: list[str], *, bytecode: Literal["as built", "compiled", "none"]
) -> Deployment:
    """Lay out one function of a build under build/bench/artifacts/NAME.

    bytecode: "as built" ships what the build made; "compiled" adds hash-based bytecode
    (what packaging/Makefile does); "none" removes it (what SAM's pip workflow ships).
    """
    root = ARTIFACTS_DIR / name
    if root.exists():
        _writable(root)
        shutil.rmtree(root)
    zips = root / "zips"
    zips.mkdir(parents=True)
    deployment = Deployment(task=root / "task", opt=root / "opt")
    extract_as_lambda(sam_zip(build / function, zips / function), deployment.task)
    for layer in layers:  # Lambda merges layers into /opt in order
        extract_as_lambda(sam_zip(build / layer, zips / layer), deployment.opt)
    shutil.rmtree(zips)
    for code_root in (deployment.task, deployment.opt):
        if bytecode == "compiled":
            mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
            compileall.compile_dir(code_root, quiet=1, force=True, invalidation_mode=mode)
        elif bytecode == "none":
            for cache in list(code_root.rglob("__pycache__")):
                shutil.rmtree(cache)
    _read_only(root)
    return deployment


@dataclass(frozen=True)
class ArtifactSize:
    """What Lambda downloads and unpacks for one function or layer."""

    zipped_bytes: int
    unpacked_bytes: int
    unpack_ms: list[float]

    @property
    def unpack_ms_median(self) -> float:
        return statistics.median(self.unpack_ms)


def unpack_ms(archive: Path) -> float:
    """Extract the zip as Lambda does, into a fresh folder: wall time in ms. The writes
    of earlier runs are flushed first, so that none of them is paid for here."""
    with tempfile.TemporaryDirectory(dir=ARTIFACTS_DIR) as target:
        os.sync()
        started = time.perf_counter()
        extract_as_lambda(archive, Path(target))
        return (time.perf_counter() - started) * 1000


def artifact_sizes(artifacts: dict[str, Path], runs: int) -> dict[str, ArtifactSize]:
    """Zipped (by SAM's own zipper) and unpacked sizes of each built artifact, and the
    time to unpack it, every artifact once per run, interleaved so drift hits all alike."""
    zips_dir = ARTIFACTS_DIR / "size-zips"
    shutil.rmtree(zips_dir, ignore_errors=True)
    zips_dir.mkdir(parents=True)
    try:
        zips = {name: sam_zip(source, zips_dir / name) for name, source in artifacts.items()}
        times: dict[str, list[float]] = {name: [] for name in artifacts}
        for _ in range(runs):
            for name, archive in zips.items():
                times[name].append(unpack_ms(archive))
        return {
            name: ArtifactSize(
                zipped_bytes=zips[name].stat().st_size,
                unpacked_bytes=sum(path.stat().st_size for path in source.rglob("*") if path.is_file()),
                unpack_ms=times[name],
            )
            for name, source in artifacts.items()
        }
    finally:
        shutil.rmtree(zips_dir, ignore_errors=True)
