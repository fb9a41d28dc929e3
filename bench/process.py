"""Measures that need a fresh process: ``publisher --help`` start-up, and the peak memory of
``publisher draft SEED`` (one process per article, peak resident set from ``wait4``)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUBLISHER = REPO / ".venv" / "bin" / "publisher"


@dataclass
class Startup:
    runs: list[float]
    baseline: list[float]        # bare `python -c pass` of the same interpreter

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)


def _timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None):
    """Run ``cmd``; returns (seconds, exit code, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=cwd)
    out, _ = proc.communicate()
    return time.perf_counter() - started, proc.returncode, out


def startup(runs: int = 10) -> Startup:
    python = str(REPO / ".venv" / "bin" / "python")
    _timed([str(PUBLISHER), "--help"])                     # warm the page cache once
    times = [_timed([str(PUBLISHER), "--help"])[0] for _ in range(runs)]
    base = [_timed([python, "-c", "pass"])[0] for _ in range(runs)]
    return Startup(times, base)


@dataclass
class Memory:
    seed: str
    peak_mib: float
    seconds: float
    exit_code: int


def draft_memory(seed: Path, env: dict[str, str], workdir: Path) -> Memory:
    """``publisher draft SEED --json`` in its own process; its peak RSS via wait4."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [str(PUBLISHER), "draft", str(seed), "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **env}, cwd=workdir)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 / 1024 if sys.platform.startswith("linux") else 1 / (1024 * 1024)
    return Memory(seed.name, usage.ru_maxrss * scale, seconds, proc.returncode)
