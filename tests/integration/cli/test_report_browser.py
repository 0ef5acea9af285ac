"""The evidence pack's report.html in a real headless browser (Debian's chromium, which
the test installs with apt-get when it is missing, as the container tests install
docker.io): it renders with no console message at all (a blocked request, a script
error or a CSP violation would log one) and shows the figures population.csv holds."""

import csv
import io
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.harness.containers import EngineUnavailableError, _apt_install, _require_linux_root
from localdev.harness.stack import LocalStack
from tests.integration.history import History, use_directory
from tests.integration.operator_tool import TICKS, run_tool


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        try:
            _require_linux_root("the report's browser test")
            _apt_install("chromium")
        except EngineUnavailableError as why:
            pytest.fail(f"headless chromium is needed and cannot be installed: {why}")
        found = shutil.which("chromium")
    assert found is not None, "apt-get installed chromium, yet it is not on PATH"
    return found


@pytest.fixture
def pack(stack: LocalStack, tmp_path: Path) -> Iterator[Path]:
    gen = use_directory(stack, 60, seed=19)
    next(gen)
    history = History(stack)
    for tick in TICKS:
        history.take(tick)
    out = tmp_path / "pack"
    exported = run_tool(
        stack, "export", "--bucket", history.bucket, "--key-id", history.signing_key_id, "--out", str(out)
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    yield out
    next(gen, None)


def test_the_report_renders_offline_with_no_console_message_and_the_csvs_figures(pack: Path, tmp_path: Path) -> None:
    browser = chromium()
    page = (pack / "report.html").as_uri()
    profile = tmp_path / "profile"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}"]
    rendered = subprocess.run(  # noqa: S603 - Debian's chromium on our own file
        [*common, "--enable-logging=stderr", "--v=0", "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    screenshot = tmp_path / "report.png"
    subprocess.run(  # noqa: S603 - the same page, as a picture
        [*common, f"--screenshot={screenshot}", "--window-size=1200,2400", page],
        capture_output=True,
        timeout=120,
        check=False,
    )

    assert rendered.returncode == 0, rendered.stderr[-2000:]
    console = [line for line in rendered.stderr.splitlines() if "CONSOLE" in line or "Refused" in line]
    assert console == [], console
    dom = rendered.stdout
    rows = list(csv.DictReader(io.StringIO((pack / "population.csv").read_text())))
    counts = dict(re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", dom.split('id="counts"', 1)[1]))
    assert counts["users"] == str(len(rows))
    for name, count in Counter(row["status"] for row in rows).items():
        assert counts[f"status {name}"] == str(count)
    for name, count in Counter(row["type"] for row in rows).items():
        assert counts[f"type {name}"] == str(count)
    assert counts["API access enabled"] == str(sum(row["apiAccess"] == "ENABLED" for row in rows))
    privileged = [row["userId"] for row in rows if row["type"] == "SUPER_USER" or row["apiAccess"] == "ENABLED"]
    assert f"Privileged users ({len(privileged)})" in dom
    assert all(user_id in dom for user_id in privileged)
    assert dom.count("<svg") == 4
    assert screenshot.stat().st_size > 10_000
