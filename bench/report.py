"""What every scenario reports through: percentiles, ratios, tables (plain text and Markdown) and the
machine the figures were measured on."""

import math
import os
import platform
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    if math.isnan(seconds):  # nothing was measured
        return "-"
    return f"{seconds * 1000:.1f}" if seconds < 1 else f"{seconds * 1000:,.0f}"


def rate(per_second: float) -> str:
    return f"{per_second:,.1f}" if per_second < 100 else f"{per_second:,.0f}"


def times(ours: float, floor: float) -> str:
    """How many times `ours` is of `floor` (both costs: seconds, or 1/throughput), e.g. '6.2x'."""
    if not floor or math.isnan(ours) or math.isnan(floor):
        return "-"
    return f"{ours / floor:,.1f}x"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def text(self) -> str:
        widths = [max(len(row[i]) for row in [self.columns, *self.rows]) for i in range(len(self.columns))]

        def line(cells: list[str]) -> str:
            # First column (a label) left-aligned, figures right-aligned.
            return "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
            )

        out = [self.title, line(self.columns), "  ".join("-" * w for w in widths), *map(line, self.rows)]
        return "\n".join([*out, *(f"  * {note}" for note in self.notes)])

    def markdown(self) -> str:
        out = [
            f"## {self.title}",
            "",
            "| " + " | ".join(self.columns) + " |",
            "|" + "|".join(["---", *["---:"] * (len(self.columns) - 1)]) + "|",
            *("| " + " | ".join(row) + " |" for row in self.rows),
        ]
        if self.notes:
            out += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(out)


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


async def machine(dsn: str) -> dict[str, str]:
    connection = await asyncpg.connect(dsn)
    try:
        postgres = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} cores, {_cpu_model()}",
        "memory": f"{memory / 2**30:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres,
    }


def write_markdown(path: Path, facts: dict[str, str], tables: list[Table]) -> None:
    lines = [
        "# ordergraph benchmark results",
        "",
        "Written by `python -m bench`; every figure was measured in this run.",
        "",
    ]
    lines += [f"- **{name}**: {value}" for name, value in facts.items()]
    for table in tables:
        lines += ["", table.markdown()]
    path.write_text("\n".join(lines) + "\n")
