"""make bench's table reads at a glance: each row's ratio is ours ÷ baseline, the header
says where a ratio is a median of per-run ratios, and a missed target says "no"."""

from typing import Any, cast

from rich.console import Console

from benchmarks.run import Bench, report


def rendered(bench: Bench) -> str:
    console = Console(record=True, width=240)
    report(bench, console)
    return console.export_text()


def test_rows_show_ours_over_baseline_and_a_missed_target_says_no() -> None:
    bench = Bench(cast(Any, None), quick=True)
    bench.add("warm GET /users p50", 3000.0, 1500.0, "µs")  # target 1.5x, missed at 2.0x
    # Per-run ratios 1.3, 1.3 and 3.0: their median is 1.3; the medians' ratio would be 1.5.
    bench.add_runs("cold GetUserFunction", [390.0, 260.0, 300.0], [300.0, 200.0, 100.0])

    text = rendered(bench)

    warm = next(line for line in text.splitlines() if "warm GET /users p50" in line)
    assert "2.0x" in warm
    assert warm.rstrip("│ ").endswith("no")
    cold = next(line for line in text.splitlines() if "cold GetUserFunction" in line)
    assert "1.3x" in cold
    assert cold.rstrip("│ ").endswith("yes")  # target 1.3x
    assert "ms median" in cold
    assert "ours ÷ baseline" in text
    assert "median of" in text and "per-run ratios" in text
    assert "NO" not in text
