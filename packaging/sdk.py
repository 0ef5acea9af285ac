"""The SDK in the layers: a current botocore, the finspace-data model it no longer has,
only the models some client of ours uses, and installs checked against their lock.

    python packaging/sdk.py model DEST          the finspace-data model, from the hash-checked
                                                botocore 1.43.116 wheel, into DEST/finspace-data
    python packaging/sdk.py develop VENV        the same for the venv: build/botocore-data on its
                                                AWS_DATA_PATH, and botocore 1.43.116 itself under
                                                build/sdk for the test that compares the clients
    python packaging/sdk.py prune PYTHON [--with=LAYER]... CODE...
                                                delete every botocore/boto3 model that no client
                                                of CODE, or of what it imports from PYTHON and
                                                the other layers, creates; and type stubs
    python packaging/sdk.py strip PYTHON        only the type stubs
    python packaging/sdk.py check-lock REQUIREMENTS LOCK  the lock is uv's, of these requirements
                                                          (`make lock` writes every lock with uv)

Standard library only: packaging/Makefile runs it with the python3.13 that builds the layer.
"""

import ast
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGING.parent
CACHE = PROJECT_ROOT / "build" / "sdk"
MODEL_REQUIREMENT = PACKAGING / "finspace-data-model.txt"
MODEL_HASHES = PACKAGING / "finspace-data-model.sha256"
# Where `make install` extracts the model for .venv (its AWS_DATA_PATH), and installs
# botocore 1.43.116 for the test that compares its client with ours.
DEVELOPMENT_DATA = PROJECT_ROOT / "build" / "botocore-data"
OLD_SDK = CACHE / "botocore-1.43.116"
# The shared package carries the model it loads (finspace_users.aws.sessions).
BUNDLED_DATA = "botocore_data"
# Calls that make a client or resource whose first argument names the service:
# boto3.client("s3"), session.create_client("sts"), botocore's client_creator("sso").
CLIENT_FACTORIES = {"client", "resource", "create_client", "client_creator", "_client_creator"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recorded_model_hashes() -> dict[str, str]:
    """Relative path (finspace-data/2020-07-13/...) to SHA-256, as recorded in the repo."""
    lines = MODEL_HASHES.read_text().splitlines()
    return {path: digest for digest, path in (line.split(maxsplit=1) for line in lines if line.strip())}


def model_wheel() -> Path:
    """The botocore 1.43.116 wheel, downloaded once by pip in hash-checking mode and
    checked again here against the hash in finspace-data-model.txt."""
    (expected,) = re.findall(r"--hash=sha256:([0-9a-f]{64})", MODEL_REQUIREMENT.read_text())
    wheels = CACHE / "wheels"
    for wheel in wheels.glob("botocore-1.43.116-*.whl"):
        if sha256(wheel.read_bytes()) == expected:
            return wheel
        wheel.unlink()
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps"]
    # No --only-binary: with --require-hashes pip takes only the file whose hash is listed.
    subprocess.run([*pip, "--require-hashes", "-r", str(MODEL_REQUIREMENT), "-d", str(wheels)], check=True)  # noqa: S603
    (wheel,) = wheels.glob("botocore-1.43.116-*.whl")
    if sha256(wheel.read_bytes()) != expected:
        raise SystemExit(f"{wheel.name}: SHA-256 differs from {MODEL_REQUIREMENT.name}")
    return wheel


def extract_model(dest: Path) -> list[Path]:
    """DEST/finspace-data/2020-07-13/{service-2.json.gz, paginators-1.json,
    endpoint-rule-set-1.json.gz}: the files botocore's loader reads, each checked against
    its recorded SHA-256 (examples-1.json, documentation only, is left in the wheel)."""
    recorded = recorded_model_hashes()
    with zipfile.ZipFile(model_wheel()) as wheel:
        files = {name.removeprefix("botocore/data/"): wheel.read(name) for name in wheel.namelist()}
    wrong = sorted(path for path, digest in recorded.items() if path not in files or sha256(files[path]) != digest)
    if wrong:
        raise SystemExit(f"finspace-data model files missing or not as recorded in {MODEL_HASHES.name}: {wrong}")
    shutil.rmtree(dest / "finspace-data", ignore_errors=True)
    written = []
    for path in sorted(recorded):
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[path])
        written.append(target)
    return written


def develop(venv: Path) -> None:
    """.venv gets the same model on its AWS_DATA_PATH, for every process it runs (tests,
    the emulator's clients, make run), through a .pth line run at start-up."""
    extract_model(DEVELOPMENT_DATA)
    if not (OLD_SDK / "botocore-1.43.116.dist-info").is_dir():
        shutil.rmtree(OLD_SDK, ignore_errors=True)
        install = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
        subprocess.run([*install, "--no-compile", "--target", str(OLD_SDK), str(model_wheel())], check=True)  # noqa: S603
    (site_packages,) = venv.glob("lib/python3.*/site-packages")
    line = (
        "import os; os.environ['AWS_DATA_PATH'] = os.pathsep.join(dict.fromkeys("
        f"[*filter(None, os.environ.get('AWS_DATA_PATH', '').split(os.pathsep)), {str(DEVELOPMENT_DATA)!r}]))"
    )
    (site_packages / "finspace_data_model.pth").write_text(line + "\n")


# --- Which models the code uses ------------------------------------------------------


def module_file(name: str, roots: Iterable[Path]) -> Path | None:
    parts = name.split(".")
    for root in roots:
        for candidate in (root.joinpath(*parts, "__init__.py"), root.joinpath(*parts).with_suffix(".py")):
            if candidate.is_file():
                return candidate
    return None


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module an import statement anywhere in the tree (functions included) may load."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1] if package else []
                base = ".".join([*anchor, *([base] if base else [])])
            if base:
                yield base
            yield from (f"{base}.{alias.name}" if base else alias.name for alias in node.names)


def reachable_modules(start: dict[str, Path], roots: list[Path]) -> dict[str, Path]:
    """Module name to file, for every module the start modules may import, however deep,
    found under roots (the standard library is not looked into)."""
    found: dict[str, Path] = {}
    pending = list(start.items())
    while pending:
        name, path = pending.pop()
        if name in found:
            continue
        found[name] = path
        tree = ast.parse(path.read_bytes(), str(path))
        for imported in imported_names(tree, name, path.name == "__init__.py"):
            parts = imported.split(".")
            for depth in range(1, len(parts) + 1):  # a.b.c runs a and a.b first
                parent = ".".join(parts[:depth])
                if parent not in found and (file := module_file(parent, roots)):
                    pending.append((parent, file))
    return found


def literal_services(path: Path) -> set[str]:
    services = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name not in CLIENT_FACTORIES:
            continue
        arguments = [*node.args[:1], *(keyword.value for keyword in node.keywords if keyword.arg == "service_name")]
        services |= {arg.value for arg in arguments if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    return services


def code_modules(code: Iterable[Path]) -> dict[str, Path]:
    """The start modules: each handler (app.py) and every module of the shared package."""
    start = {}
    for root in code:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            start[".".join(parts) if relative.parts != ("app",) else f"app:{root.name}"] = path
    return start


def services_created(
    python_dir: Path, code: list[Path], other_layers: Iterable[Path] = (), model_dirs: Iterable[Path] = ()
) -> set[str]:
    """The services whose client or resource some module of the code, or of what it
    imports from python_dir and other_layers, creates: string literals passed to a
    client factory that name a model in python_dir's botocore/data (or in model_dirs)."""
    known = {path.name for directory in (python_dir / "botocore" / "data", *model_dirs) for path in _dirs(directory)}
    modules = reachable_modules(code_modules(code), [*code, python_dir, *other_layers])
    return {service for path in modules.values() for service in literal_services(path)} & known


def _dirs(directory: Path) -> list[Path]:
    return [path for path in directory.iterdir() if path.is_dir()] if directory.is_dir() else []


def prune(python_dir: Path, code: list[Path], other_layers: list[Path]) -> set[str]:
    """other_layers: the python folders of the layers merged with this one (the X-Ray
    SDK's creates an xray client, whose model this layer's botocore holds)."""
    services = services_created(python_dir, code, other_layers)
    # Only model folders go: botocore/data's own files (endpoints, partitions, retry and
    # default configuration) are kept whole, since every client reads them.
    for data in (python_dir / "botocore" / "data", python_dir / "boto3" / "data"):
        for model in _dirs(data):
            if model.name not in services:
                shutil.rmtree(model)
    strip(python_dir)
    return services


def strip(python_dir: Path) -> None:
    """Type stubs are for type checkers: the import system never reads a .pyi (and a
    stub-only package such as wrapt-stubs holds nothing else)."""
    for stub in python_dir.rglob("*.pyi"):
        stub.unlink()
    for stubs in python_dir.glob("*-stubs"):
        if not any(path.is_file() for path in stubs.rglob("*")):
            shutil.rmtree(stubs)


# --- The lock ---------------------------------------------------------------------------
# `make lock` writes every lock with uv (`uv pip compile --generate-hashes`); `make
# lock-check` re-resolves them all. What is checked here is only what is cheap enough for
# every build and install: that a lock is uv's, and of the requirements beside it.
LOCK_HEADER = "# This file was autogenerated by uv via the following command:\n#    make lock\n"


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: Path) -> dict[str, str]:
    """name to version of every `name==version` line (extras and markers dropped), those
    of the files it includes with -r too."""
    found = {}
    for line in requirements.read_text().splitlines():
        if included := re.match(r"^\s*(?:-r|--requirement)[\s=]+(\S+)", line):
            found |= pins(requirements.parent / included[1])
        elif match := re.match(r"^\s*([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;#\\]+)", line):
            found[normalized(match[1])] = match[2]
    return found


def unhashed(lock: Path) -> list[str]:
    """The requirements of a lock that no --hash follows."""
    blocks = re.split(r"^(?=[^\s#])", lock.read_text(), flags=re.M)
    requirements = [block for block in blocks if block.strip() and not block.startswith("#")]
    return [block.split()[0] for block in requirements if "--hash=sha256:" not in block]


def check_lock(requirements: Path, lock_path: Path) -> None:
    """The lock is what uv wrote for `make lock`, each of its lines hashed, and it holds
    every pin of REQUIREMENTS at that version; `make lock-check` tells whether it is
    exactly what uv makes of them now."""
    text = lock_path.read_text() if lock_path.is_file() else ""
    locked = pins(lock_path) if text else {}
    differs = sorted(name for name, version in pins(requirements).items() if locked.get(name) != version)
    if not text.startswith(LOCK_HEADER) or differs or unhashed(lock_path):
        detail = f" ({', '.join(differs)} differ)" if differs else ""
        raise SystemExit(f"{lock_path} is not the lock of {requirements}{detail}: run `make lock`")


def main(argv: list[str]) -> None:
    command, *arguments = argv
    if command == "model":
        extract_model(Path(arguments[0]))
    elif command == "develop":
        develop(Path(arguments[0]))
    elif command == "prune":
        other_layers = [Path(path.removeprefix("--with=")) for path in arguments[1:] if path.startswith("--with=")]
        code = [Path(path) for path in arguments[1:] if not path.startswith("--with=")]
        kept = prune(Path(arguments[0]), code, other_layers)
        print(f"botocore models kept: {', '.join(sorted(kept))}")
    elif command == "strip":
        strip(Path(arguments[0]))
    elif command == "check-lock":
        check_lock(Path(arguments[0]), Path(arguments[1]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
