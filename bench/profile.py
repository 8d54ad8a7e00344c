"""py-spy's collapsed stacks of the service, summed up: where its CPU goes, by library."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# The first of these found in a sample's innermost frame's file names the layer that spent it.
LAYERS = (
    ("neo4j driver", "/neo4j/"),
    ("graphql-core", "/graphql/"),
    ("strawberry", "/strawberry/"),
    ("starlette", "/starlette/"),
    ("uvicorn", "/uvicorn/"),
    ("project: graphdb", "/graphdb/"),
    ("project: resolvers", "/resolvers/"),
    ("project: schema", "/schema/"),
    ("asyncio", "/asyncio/"),
    ("json", "/json/"),
)
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def sampler(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    return subprocess.Popen(  # noqa: S603
        [
            py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--format", "raw",
            "--output", str(output), "--nonblocking", "--subprocesses",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _layer(frame: str) -> str:
    match = _FRAME.match(frame)
    # py-spy names files relative to their sys.path entry: "neo4j/_async/...py".
    file = "/" + (match.group("file") if match else frame)
    for name, marker in LAYERS:
        if marker in file:
            return name
    # Frames in C code (uvloop, httptools, the Rust codec) have no Python file.
    if not file.endswith(".py"):
        return "generated code, C extensions, idle loop"
    return "other Python"


def summarize(stacks: Path, top: int = 15) -> str:
    by_layer: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        leaf = frames.split(";")[-1]
        by_layer[_layer(leaf)] += int(count)
        by_leaf[leaf] += int(count)
        total += int(count)
    if not total:
        return "no samples"
    lines = [f"{total:,} samples of the service's threads; innermost frame's layer:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in by_layer.most_common()]
    lines.append("Innermost frames:")
    lines += [f"  {share / total:6.1%}  {name}" for name, share in by_leaf.most_common(top)]
    return "\n".join(lines)
