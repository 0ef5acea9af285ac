"""`make bench`: every figure beside its baseline, measured in the same run so machine
drift cancels out. Prints a table and writes build/bench.json.

    python -m benchmarks.run [--quick]
"""

import argparse
import compileall
import contextlib
import functools
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, cast

import boto3
from rich.console import Console
from rich.table import Table

from benchmarks import history_queries, verification
from benchmarks.artifact import BARE_BUILD, OUR_ARM64_BUILD, OUR_BUILD, ArtifactSize, artifact_sizes, deploy
from localdev.harness.commands import cli_description, quiet_server_logs
from localdev.harness.defaults import PROCESS_ENVIRONMENT, PROJECT_ROOT
from localdev.harness.directory import SeededDirectory
from localdev.harness.finspace_emulator import FinSpaceEmulator
from localdev.harness.front import rest_proxy_event
from localdev.harness.lambda_runtime import LocalFunction, function_environment, load_functions
from localdev.harness.stack import LOCAL_TABLE_NAME, LocalStack, local_stack
from localdev.harness.template import functions

RESULTS_PATH = PROJECT_ROOT / "build" / "bench.json"
TARGETS = {
    "artifact cold GetUserFunction vs bare, plain sam build": 0.75,
    "artifact cold GetUserFunction vs bare with bytecode": 1.5,
    "artifact cold ListUsersFunction vs bare, plain sam build": 0.75,
    "artifact cold ListUsersFunction vs bare with bytecode": 1.5,
    "cold GetUserFunction": 1.3,
    "cold ListUsersFunction": 1.5,
    "warm GET /users/{userId} p50": 1.5,
    "warm GET /users p50": 1.5,
    "snapshot 10,000 users": 1.15,
    "snapshot 100,000 users": 1.15,
    "snapshot 10,000 users, 1% changed": 1.15,
    "snapshot 100,000 users, 1% changed": 1.15,
}
RSS_TARGET_MB = 64
# All our zips together, as deployed (MB = 10^6 bytes), with tracing off and on.
ARTIFACT_LIMIT_MB = 10
LIMITS = {
    f"artifacts zipped, {architecture}, tracing {tracing}": ARTIFACT_LIMIT_MB
    for architecture in ("x86_64", "arm64")
    for tracing in ("off", "on")
}
OUR_ARTIFACTS = ["GetUserFunction", "ListUsersFunction", "DependenciesLayer", "SharedLayer", "XRayLayer"]
BARE_ARTIFACTS = ["BareFunction", "BareDependenciesLayer"]
# What Lambda sets for a function with `Tracing: Active`; None removes a variable. The
# X-Ray SDK sends its segments over UDP to the daemon address: loopback, fire and forget.
TRACING_ON: dict[str, str | None] = {
    "POWERTOOLS_TRACE_DISABLED": None,
    "_X_AMZN_TRACE_ID": "Root=1-6742a9c0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}
# The ratio column says how each ratio is made, in its header rather than a footnote.
RATIO_HEADER = "ours ÷ baseline\n(median rows: median of\nper-run ratios)"


def api_event(
    raw_path: str, resource: str, query: str = "", path_parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    return rest_proxy_event("GET", raw_path, query, [("Accept", "application/json")], resource, path_parameters, b"")


def list_users_event(max_results: int) -> dict[str, Any]:
    return api_event("/users", "/users", f"maxResults={max_results}")


def get_user_event(user_id: str) -> dict[str, Any]:
    return api_event(f"/users/{user_id}", "/users/{userId}", path_parameters={"userId": user_id})


def child(mode: str, request: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    completed = subprocess.run(  # noqa: S603 - our own module and arguments
        [sys.executable, "-m", "benchmarks.child", mode, json.dumps(request)],
        env=environment,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def child_environment(stack: LocalStack, function_name: str) -> dict[str, str]:
    """What Lambda would give the function: the template's variables, valued for this stack."""
    return {
        "PATH": os.environ["PATH"],
        **PROCESS_ENVIRONMENT,
        "AWS_ENDPOINT_URL_DYNAMODB": stack.moto_url,
        "AWS_ENDPOINT_URL_S3": stack.moto_url,
        "LAYER_DIR": str(PROJECT_ROOT / "layers" / "shared"),
        **function_environment(functions()[function_name], stack.env_vars),
    }


def clear_page_cache(stack: LocalStack) -> None:
    """Drop every page record, so that the next request for any page misses."""
    table = boto3.resource("dynamodb", endpoint_url=stack.moto_url).Table(LOCAL_TABLE_NAME)
    for item in table.scan()["Items"]:
        table.delete_item(Key={"id": item["id"]})


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def timed_side_by_side(
    ours: Callable[[], Any], baseline: Callable[[], Any], repeat: int
) -> tuple[list[float], list[float]]:
    """Microseconds per call of each, the calls alternating so drift hits both alike."""
    ours_samples, baseline_samples = [], []
    for _ in range(repeat):
        ours_samples += timed(ours, 1)
        baseline_samples += timed(baseline, 1)
    return ours_samples, baseline_samples


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    """Microseconds per call."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Log lines and metrics still get written, to /dev/null."""
    from finspace_users.aws.observability import logger

    handler = cast(logging.StreamHandler, logger.registered_handler)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        previous = handler.setStream(devnull)
        try:
            yield
        finally:
            handler.setStream(previous)


class Bench:
    def __init__(self, stack: LocalStack, quick: bool) -> None:
        self.stack = stack
        self.cold_runs = 3 if quick else 15
        self.warm_requests = 300 if quick else 2000
        # (users, runs, share of users changed before each run): the median of several
        # runs where a run is short
        self.snapshot_runs = (
            [(10_000, 3, 0.0), (10_000, 3, 0.01)]
            if quick
            else [(10_000, 9, 0.0), (100_000, 5, 0.0), (100_000, 5, 0.01)]
        )
        # (days, users a day, runs) of the history `finspace-users verify` checks
        self.verify_history = (3, 10_000, 2) if quick else (30, 100_000, 3)
        self.rows: list[dict[str, Any]] = []

    def add(self, name: str, ours: float, baseline: float, unit: str, **extra: Any) -> None:
        ratio = ours / baseline
        self._add_row(name, ours, baseline, unit, ratio, **extra)

    def add_runs(self, name: str, ours: list[float], baselines: list[float], **extra: Any) -> None:
        """Runs measured in pairs, each pair back to back: the ratio is the median of the
        pairs' ratios, which cancels the machine's drift better than a ratio of medians."""
        ratio = statistics.median(mine / base for mine, base in zip(ours, baselines, strict=True))
        unit = "ms median" if len(ours) > 1 else "ms"
        self._add_row(name, statistics.median(ours), statistics.median(baselines), unit, ratio, **extra)

    def _add_row(self, name: str, ours: float, baseline: float, unit: str, ratio: float, **extra: Any) -> None:
        target = TARGETS.get(name)
        if name in LIMITS:  # an absolute target, in the row's unit
            extra = {**extra, "limit": LIMITS[name], "met": ours <= LIMITS[name]}
        self.rows.append(
            {
                "name": name,
                "ours": round(ours, 1),
                "baseline": round(baseline, 1),
                "unit": unit,
                "ratio": round(ratio, 3),
                "target": target,
                "met": None if target is None else ratio <= target,
                **extra,
            }
        )

    def artifact_size(self) -> None:
        """What Lambda downloads and unpacks on a cold start: each artifact of both builds,
        zipped by SAM's zipper, beside the bare baseline's function and layer together.
        The bare baseline is pure Python, so its zips are the same for arm64."""
        runs = 3 if self.cold_runs < 15 else 7
        bare = artifact_sizes({name: BARE_BUILD / name for name in BARE_ARTIFACTS}, runs)
        bare_zipped = sum(size.zipped_bytes for size in bare.values()) / 1e6
        bare_unpacked = sum(size.unpacked_bytes for size in bare.values()) / 1e6
        bare_ms = [sum(times) for times in zip(*(size.unpack_ms for size in bare.values()), strict=True)]
        for architecture, build in (("x86_64", OUR_BUILD), ("arm64", OUR_ARM64_BUILD)):
            ours = artifact_sizes({name: build / name for name in OUR_ARTIFACTS}, runs)
            for name, size in ours.items():
                prefix = f"artifact {name}, {architecture}"
                self.add(f"{prefix}, zipped", size.zipped_bytes / 1e6, bare_zipped, "MB")
                self.add(f"{prefix}, unpacked", size.unpacked_bytes / 1e6, bare_unpacked, "MB")
                self.add_runs(f"{prefix}, unpack", size.unpack_ms, bare_ms)
            for tracing, names in (("off", OUR_ARTIFACTS[:-1]), ("on", OUR_ARTIFACTS)):
                chosen: list[ArtifactSize] = [ours[name] for name in names]
                self.add(
                    f"artifacts zipped, {architecture}, tracing {tracing}",
                    sum(size.zipped_bytes for size in chosen) / 1e6,
                    bare_zipped,
                    "MB",
                )
                self.add(
                    f"artifacts unpacked, {architecture}, tracing {tracing}",
                    sum(size.unpacked_bytes for size in chosen) / 1e6,
                    bare_unpacked,
                    "MB",
                )
                ms = [sum(times) for times in zip(*(size.unpack_ms for size in chosen), strict=True)]
                self.add_runs(f"artifacts unpack, {architecture}, tracing {tracing}", ms, bare_ms)

    def cold_start(self) -> None:
        user_id = self.stack.emulator.directory.user_at(0)["userId"]

        def get_user_request(run: int) -> dict[str, Any]:
            return get_user_event(user_id)

        def list_users_request(run: int) -> dict[str, Any]:
            return list_users_event(run + 1)  # a new page every run: the page cache misses, as when cold

        cases = [
            ("GetUserFunction", "GET /users/{userId}", "bare-get_user", get_user_request),
            ("ListUsersFunction", "GET /users", "bare-list_users", list_users_request),
        ]
        for function_name, route, bare, event_for in cases:
            environment = child_environment(self.stack, function_name)
            function_dir = str(functions()[function_name].code_dir)
            ours, floors, bases = [], [], []
            for run in range(self.cold_runs):  # interleaved, so drift hits all alike
                bases.append(child(bare, event_for(run), environment)["ms"])
                floors.append(child("powertools", event_for(run), environment)["ms"])
                ours.append(child(function_dir, event_for(run), environment)["ms"])
            self.add_runs(f"cold {function_name}", ours, bases)
            self.add_runs(f"cold minimal Powertools handler, {route}", floors, bases)

    def artifact_cold_start(self) -> None:
        """What Lambda loads (benchmarks/artifact.py), each run a fresh process, all
        variants interleaved: ours as built; ours with tracing on, as `Tracing: Active`
        deploys it; ours without bytecode, as SAM's pip workflow would ship it; and a bare
        boto3 handler built by plain `sam build`, as shipped and with bytecode added."""
        bare_parts = (BARE_BUILD, "BareFunction", ["BareDependenciesLayer"])
        bare = deploy("bare", *bare_parts, bytecode="as built")
        bare_compiled = deploy("bare-with-bytecode", *bare_parts, bytecode="compiled")
        user_id = self.stack.emulator.directory.user_at(0)["userId"]
        for function_name in ("GetUserFunction", "ListUsersFunction"):
            our_parts = (OUR_BUILD, function_name, ["DependenciesLayer", "SharedLayer"])
            ours = deploy(function_name, *our_parts, bytecode="as built")
            # Tracing=true also attaches the X-Ray SDK's layer.
            traced_parts = (OUR_BUILD, function_name, ["DependenciesLayer", "SharedLayer", "XRayLayer"])
            ours_traced = deploy(f"{function_name}-traced", *traced_parts, bytecode="as built")
            environment = {**child_environment(self.stack, function_name), "AWS_LAMBDA_FUNCTION_NAME": function_name}
            traced = {key: value for key, value in {**environment, **TRACING_ON}.items() if value is not None}
            variants = {
                "bare": (bare, environment),
                "bare with bytecode": (bare_compiled, environment),
                "ours": (ours, environment),
                "ours traced": (ours_traced, traced),
                "ours without bytecode": (
                    deploy(f"{function_name}-no-bytecode", *our_parts, bytecode="none"),
                    environment,
                ),
            }
            files_before = {name: deployment.files() for name, (deployment, _) in variants.items()}
            clear_page_cache(self.stack)
            runs: dict[str, list[float]] = {name: [] for name in variants}
            for run in range(self.cold_runs):
                for index, (name, (deployment, variant_environment)) in enumerate(variants.items()):
                    # A page of its own for every call: a cold container's page cache misses.
                    event = (
                        get_user_event(user_id)
                        if function_name == "GetUserFunction"
                        else list_users_event(run * len(variants) + index + 1)
                    )
                    runs[name].append(deployment.cold_start_ms(json.dumps(event), variant_environment))
            for name, (deployment, _) in variants.items():
                assert deployment.files() == files_before[name], f"a run wrote into the read-only {name} artifact"
            prefix = f"artifact cold {function_name}"
            self.add_runs(f"{prefix} vs bare, plain sam build", runs["ours"], runs["bare"])
            self.add_runs(f"{prefix} vs bare with bytecode", runs["ours"], runs["bare with bytecode"])
            self.add_runs(
                f"{prefix}, tracing on, vs bare with bytecode", runs["ours traced"], runs["bare with bytecode"]
            )
            self.add_runs(f"{prefix}, tracing on vs off", runs["ours traced"], runs["ours"])
            self.add_runs(
                f"{prefix} without bytecode vs bare, plain sam build", runs["ours without bytecode"], runs["bare"]
            )

    def warm(self, loaded: dict[str, LocalFunction]) -> None:
        from finspace_users.http.page_cache import reset_page_cache

        client = boto3.client("finspace-data", endpoint_url=self.stack.finspace_url)
        directory = self.stack.emulator.directory
        user_ids = [directory.user_at(index)["userId"] for index in range(50)]
        get_user, list_users = loaded["GetUserFunction"], loaded["ListUsersFunction"]
        list_users.environment["PAGE_CACHE_SECONDS"] = "0"  # handler overhead alone; the cache is measured below
        reset_page_cache()
        requests = self.warm_requests
        with quiet():
            get_user.invoke(get_user_event(user_ids[0]))
            ours, raw = timed_side_by_side(
                lambda: get_user.invoke(get_user_event(user_ids[int(time.time_ns()) % 50])),
                lambda: client.get_user(userId=user_ids[int(time.time_ns()) % 50]),
                requests,
            )
            self.add("warm GET /users/{userId} p50", percentile(ours, 0.5), percentile(raw, 0.5), "µs")
            self.add("warm GET /users/{userId} p99", percentile(ours, 0.99), percentile(raw, 0.99), "µs")
            page = api_event("/users", "/users", "maxResults=10")
            ours, raw = timed_side_by_side(
                lambda: list_users.invoke(page), lambda: client.list_users(maxResults=10), requests
            )
            self.add("warm GET /users p50", percentile(ours, 0.5), percentile(raw, 0.5), "µs")
            self.add("warm GET /users p99", percentile(ours, 0.99), percentile(raw, 0.99), "µs")
        list_users.environment["PAGE_CACHE_SECONDS"] = "60"
        reset_page_cache()

    def page_cache(self, loaded: dict[str, LocalFunction]) -> None:
        from finspace_users.http.page_cache import reset_page_cache

        list_users = loaded["ListUsersFunction"]
        clear_page_cache(self.stack)
        reset_page_cache()
        with quiet():
            misses = [
                timed(functools.partial(list_users.invoke, list_users_event(size)), 1)[0] for size in range(1, 101)
            ]
            hit_page = list_users_event(10)
            hits = timed(lambda: list_users.invoke(hit_page), 500)
        self.add("page cache hit vs miss p50", percentile(hits, 0.5), percentile(misses, 0.5), "µs")

    def page_parsing(self) -> None:
        """What the snapshot's client saves on each page: orjson
        (orjson_page_parser.parse_users_page_with_orjson) against botocore's parser, on the same
        page of 100 users from the emulator."""
        from botocore.parsers import create_parser

        from finspace_users.aws.orjson_page_parser import BEFORE_PARSING_A_PAGE, parse_users_page_with_orjson

        client = boto3.client("finspace-data", endpoint_url=self.stack.finspace_url)
        bodies: list[bytes] = []
        client.meta.events.register(
            BEFORE_PARSING_A_PAGE, lambda response_dict, **_: bodies.append(response_dict["body"])
        )
        assert len(client.list_users(maxResults=100)["users"]) == 100
        output_shape = client.meta.service_model.operation_model("ListUsers").output_shape
        assert output_shape is not None
        page = {"status_code": 200, "headers": {}, "body": bodies[0]}
        parser = create_parser("rest-json")
        ours, botocores = timed_side_by_side(
            lambda: parse_users_page_with_orjson(response_dict=dict(page), customized_response_dict={}),
            lambda: parser.parse(page, output_shape),
            self.warm_requests,
        )
        self.add(
            "ListUsers page of 100 users parsed, orjson vs botocore, p50",
            percentile(ours, 0.5),
            percentile(botocores, 0.5),
            "µs",
        )

    def snapshots(self) -> None:
        """Each timed snapshot compares itself with the one before it, of the same
        directory: unchanged, or with a share of its users added, removed and changed."""
        environment = child_environment(self.stack, "ListUsersFunction")
        function_dir = str(functions()["ListUsersFunction"].code_dir)
        seeded = self.stack.emulator.directory
        try:
            # A past year per series (a tick still to come is refused): each snapshot's previous
            # one is of its own series.
            for year, (size, runs, changed_share) in enumerate(self.snapshot_runs, start=2001):
                self.stack.emulator.directory = SeededDirectory(size, seed=9)
                first = {"function_dir": function_dir, "scheduledTime": f"{year}-01-01T00:00:00Z"}
                child("snapshot", first, environment)  # untimed: what the first timed run compares with
                raws, ours = [], []
                for run in range(runs):  # interleaved, so drift hits both alike
                    expected = change_users(self.stack.emulator, size * changed_share, seed=run)
                    raws.append(child("paginator", {}, environment))
                    request = {"function_dir": function_dir, "scheduledTime": f"{year}-01-{run + 2:02d}T00:00:00Z"}
                    ours.append(child("snapshot", request, environment))
                    assert ours[-1]["users"] == raws[-1]["users"] == size
                    reported = {name: ours[-1]["changes"][name] for name in expected}
                    assert reported == expected, (reported, expected)
                name = f"snapshot {size:,} users" + (f", {changed_share:.0%} changed" if changed_share else "")
                self.add_runs(
                    name,
                    [result["ms"] for result in ours],
                    [result["ms"] for result in raws],
                    rss_growth_mb=round(max(result["rss_growth_mb"] for result in ours), 1),
                    peak_rss_mb=round(max(result["peak_rss_mb"] for result in ours), 1),
                    baseline_rss_growth_mb=round(max(result["rss_growth_mb"] for result in raws), 1),
                )
        finally:
            self.stack.emulator.directory = seeded

    def verification(self) -> None:
        days, users, runs = self.verify_history
        bucket = f"bench-verify-{days}-{users}"
        verification.write_history(self.stack, bucket, days, users)
        ours, floors = [], []
        for _ in range(runs):  # interleaved, so drift hits both alike
            floors.append(verification.read_run(self.stack, bucket))
            ours.append(verification.verify_run(self.stack, bucket))
        checked = json.loads(ours[-1]["output"])
        self.add_runs(
            f"verify {days} days x {users:,} users",
            [result["ms"] for result in ours],
            [result["ms"] for result in floors],
            peak_rss_mb=round(max(result["peak_rss_mb"] for result in ours), 1),
            baseline_peak_rss_mb=round(max(result["peak_rss_mb"] for result in floors), 1),
            verified_mb=round(checked["bytes"] / 1e6, 1),
        )

    def history_questions(self) -> None:
        """who, history and query on the verify history's shape, 1% changed a day, each
        beside downloading the objects it reads (benchmarks/history_queries.py)."""
        days, users, _ = self.verify_history
        bucket = f"bench-questions-{days}-{users}"
        written = history_queries.write_history(self.stack, bucket, days, users)
        keys = written["keys"]
        group = "SELECT scheduledTime, type, apiAccess, count(*) AS users FROM users GROUP BY ALL ORDER BY ALL"
        for name, arguments, objects in (
            (f"who --at on {users:,} users", ("who", "--type", "SUPER_USER"), [*keys["summary"], keys["users"][-1]]),
            (
                f"history over {days} days x {users:,} users, 1% a day",
                ("history", written["userId"]),
                [*keys["summary"], *keys["changes"], keys["users"][0]],
            ),
            (f"query grouping {days} days x {users:,} users", ("query", group), [*keys["summary"], *keys["users"]]),
        ):
            ours, floors = [], []
            for _ in range(2):
                floors.append(history_queries.download_run(self.stack, bucket, objects))
                ours.append(history_queries.tool_run(self.stack, bucket, *arguments))
            self.add_runs(
                name,
                [result["ms"] for result in ours],
                [result["ms"] for result in floors],
                peak_rss_mb=round(max(result["peak_rss_mb"] for result in ours), 1),
                baseline_peak_rss_mb=round(max(result["peak_rss_mb"] for result in floors), 1),
                objects=len(objects),
            )


# A status or type that differs from each one FinSpace uses.
OTHER_VALUE = {
    "ENABLED": "DISABLED",
    "DISABLED": "ENABLED",
    "CREATING": "ENABLED",
    "SUPER_USER": "APP_USER",
    "APP_USER": "SUPER_USER",
}


def change_users(emulator: FinSpaceEmulator, how_many: float, seed: int) -> dict[str, int]:
    """Change `how_many` users: 30% leave, as many join, the rest change a compared field
    (status, type or surname, in turn). Returns the counts a change report should find."""
    directory = emulator.directory
    total = int(how_many)
    joined = left = total * 3 // 10
    changed = total - joined - left
    present = []
    for index in random.Random(seed).sample(range(directory.user_count), k=2 * total):
        with contextlib.suppress(LookupError):  # one who left in an earlier run
            present.append(directory.user_at(index))
    for user in present[:left]:
        emulator.remove_user(user["userId"])
    for turn, user in enumerate(present[left : left + changed]):
        field = ("status", "type", "lastName")[turn % 3]
        after = user[field] + "-Smythe" if field == "lastName" else OTHER_VALUE[user[field]]
        emulator.update_user(user["userId"], **{field: after})
    if joined:
        emulator.add_users(joined)
    return {"added": joined, "removed": left, "changed": changed}


def report(bench: Bench, console: Console) -> dict[str, Any]:
    table = Table(title="finspace-users benchmark (ours vs baseline, same run)")
    for column in ("figure", "ours", "baseline", "unit", RATIO_HEADER, "target", "met"):
        table.add_column(column, justify="left" if column in {"figure", "unit"} else "right")
    for row in bench.rows:
        met = "" if row["met"] is None else ("yes" if row["met"] else "no")
        target = "" if row["target"] is None else f"<= {row['target']}x"
        if "limit" in row:
            target = f"<= {row['limit']} {row['unit']}"
        ratio = f"{row['ratio']}x"
        table.add_row(row["name"], f"{row['ours']:,}", f"{row['baseline']:,}", row["unit"], ratio, target, met)
    console.print(table)
    for row in bench.rows:
        if "verified_mb" in row:
            console.print(
                f"{row['name']}: {row['verified_mb']} MB verified, peak RSS {row['peak_rss_mb']} MB "
                f"(read and SHA-256 every object: {row['baseline_peak_rss_mb']} MB)"
            )
        if "rss_growth_mb" in row:
            verdict = "yes" if row["rss_growth_mb"] <= RSS_TARGET_MB else "no"
            console.print(
                f"{row['name']}: peak RSS growth {row['rss_growth_mb']} MB, peak RSS {row['peak_rss_mb']} MB "
                f"(raw paginator: growth {row['baseline_rss_growth_mb']} MB); target <= {RSS_TARGET_MB} MB: {verdict}"
            )
    return {
        "measuredAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "rows": bench.rows,
        "rssTargetMb": RSS_TARGET_MB,
    }


def compile_our_code() -> None:
    """Installed packages come compiled; ours is compiled here, so that no measured run
    (the first one on a fresh clone, say) pays for compiling it."""
    for source in ("layers/shared", "functions", "benchmarks"):
        compileall.compile_dir(PROJECT_ROOT / source, quiet=1)


def main() -> None:
    compile_our_code()
    parser = argparse.ArgumentParser(description=cli_description(__doc__))
    parser.add_argument("--quick", action="store_true", help="fewer runs and no 100,000-user snapshot")
    args = parser.parse_args()
    console = Console(width=120)
    with local_stack(user_count=100, finspace_port=0, moto_port=0, moto_apart=True) as stack:
        quiet_server_logs()
        bench = Bench(stack, args.quick)
        console.print("size and unpack time of the built artifacts…")
        bench.artifact_size()
        console.print("cold start of the built artifacts…")
        bench.artifact_cold_start()
        console.print("cold start in .venv…")
        bench.cold_start()
        with contextlib.redirect_stdout(sys.stderr):
            loaded = load_functions(stack.env_vars)  # sets the environment, then imports the handlers
        console.print("warm requests…")
        bench.warm(loaded)
        console.print("page cache…")
        bench.page_cache(loaded)
        console.print("page parsing…")
        bench.page_parsing()
        console.print("snapshots…")
        bench.snapshots()
        console.print("verify…")
        bench.verification()
        console.print("history questions…")
        bench.history_questions()
    results = report(bench, console)
    RESULTS_PATH.parent.mkdir(exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"wrote {RESULTS_PATH.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
