"""CPU time used by a process and its children, read from /proc: the cost model's raw figures.

CPU seconds per request hold up even on a busy machine, where req/s does not: they say what each
part (Neo4j, the service, the load generator) costs, and so what two cores can reach at best.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; everything after its closing bracket splits.
    return text[text.rindex(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system time of pid and its live children (uvicorn's workers, say)."""
    total = 0.0
    for each in [pid, *_children(pid)]:
        fields = _stat_fields(each)
        if fields is not None:
            # utime and stime are fields 14 and 15 of /proc/pid/stat; here 0-based from field 3.
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total
