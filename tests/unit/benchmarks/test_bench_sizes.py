"""make bench's size rows: each artifact beside the bare baseline, and all our zips
together against their absolute limit of 10 MB."""

from pathlib import Path
from typing import Any, cast

from rich.console import Console

from benchmarks import artifact
from benchmarks.run import ARTIFACT_LIMIT_MB, Bench, report


def test_all_zips_together_are_held_to_10_mb() -> None:
    bench = Bench(cast(Any, None), quick=True)
    bench.add("artifacts zipped, x86_64, tracing off", 9.1, 24.9, "MB")
    bench.add("artifacts zipped, arm64, tracing on", 10.2, 24.9, "MB")
    console = Console(record=True, width=240)
    report(bench, console)
    lines = console.export_text().splitlines()

    assert ARTIFACT_LIMIT_MB == 10
    met = next(line for line in lines if "x86_64, tracing off" in line)
    missed = next(line for line in lines if "arm64, tracing on" in line)
    assert "<= 10 MB" in met and met.rstrip("│ ").endswith("yes")
    assert "<= 10 MB" in missed and missed.rstrip("│ ").endswith("no")


def test_sizes_are_of_what_sam_zips_and_lambda_unpacks(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(artifact, "ARTIFACTS_DIR", tmp_path / "artifacts")
    source = tmp_path / "layer" / "python"
    source.mkdir(parents=True)
    (source / "module.py").write_bytes(b"x = 1\n" * 10_000)

    (size,) = artifact.artifact_sizes({"Layer": tmp_path / "layer"}, runs=2).values()

    assert size.unpacked_bytes == 60_000
    assert 0 < size.zipped_bytes < 2_000  # deflated
    assert len(size.unpack_ms) == 2 and size.unpack_ms_median > 0
