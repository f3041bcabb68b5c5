"""Helpers shared by the relay and masking benchmarks.

Timing of client commands, peak-RSS sampling of a server process, medians, machine
facts, and the report (an aligned console table and the same as markdown).
Standard library only.
"""

import datetime
import hashlib
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time


class Target:
    """One way of reaching the database: a port, a login, and the proxy's pid."""

    def __init__(self, name, port, user, pid=None):
        self.name = name
        self.port = int(port)
        self.user = user
        self.pid = int(pid) if pid else None


def parse_target(spec, default_user):
    """NAME=PORT[:PID][@USER] -> Target."""
    m = re.fullmatch(r"([\w-]+)=(\d+)(?::(\d+))?(?:@(\w+))?", spec)
    if not m:
        raise SystemExit(f"bad --target {spec!r}: expected NAME=PORT[:PID][@USER]")
    return Target(m[1], m[2], m[4] or default_user, m[3])


def psql_command(target, db, sql, extra=(), tuples_only=True):
    """psql running one statement, unaligned output (with -t unless tuples_only=False)."""
    return ["psql", "-X", "-q", "-At" if tuples_only else "-A", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(target.port), "-U", target.user, "-d", db, *extra,
            "-c", sql]


def reuse_fact(target, db):
    """Whether the proxy behind target hands a backend on: pg_backend_pid() of two
    consecutive psql sessions with the same connection parameters (the same startup
    packet), as a sentence for the report. Informative: with several kept backends for
    that packet the second session may get another warm one."""
    cmd = psql_command(target, db, "SELECT pg_backend_pid()")
    pids = [run_checked(cmd).stdout.strip() for _ in range(2)]
    verdict = "same backend (handed on)" if pids[0] == pids[1] else "different backends"
    return (f"{target.name}: backend pid of two consecutive psql sessions "
            f"{pids[0]} / {pids[1]}: {verdict}")


def _read_status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def lifetime_peak_mb(pid):
    kb = _read_status_kb(pid, "VmHWM")
    return None if kb is None else kb / 1024.0


class RssProbe:
    """Peak resident set size of `pid` while the `with` block runs, in MB.

    Resets the kernel's high-water mark (/proc/PID/clear_refs, value 5) on entry and
    reads VmHWM on exit; VmRSS is also polled every 10 ms, which is the fallback when
    the reset is not permitted. `peak_mb` is None when pid is None.
    """

    def __init__(self, pid):
        self.pid = pid
        self.peak_mb = None
        self._polled_kb = 0
        self._reset_ok = False
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.pid is None:
            return self
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            self._reset_ok = True
        except OSError:
            self._reset_ok = False
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.is_set():
            kb = _read_status_kb(self.pid, "VmRSS")
            if kb is not None:
                self._polled_kb = max(self._polled_kb, kb)
            self._stop.wait(0.01)

    def __exit__(self, *exc):
        if self.pid is None:
            return False
        self._stop.set()
        self._thread.join()
        peak = self._polled_kb
        if self._reset_ok:
            peak = max(peak, _read_status_kb(self.pid, "VmHWM") or 0)
        self.peak_mb = peak / 1024.0
        return False


def run_checked(cmd, **kwargs):
    """Runs cmd; on failure raises SystemExit with its stderr."""
    proc = subprocess.run(cmd, stdout=kwargs.pop("stdout", subprocess.PIPE),
                          stderr=subprocess.PIPE, text=kwargs.pop("text", True), **kwargs)
    if proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err.strip()}")
    return proc


def cpu_seconds(pid):
    """CPU time (user and system) that process pid has used so far, in seconds, or None.

    The sum over its threads of the nanoseconds on CPU in /proc/PID/task/*/schedstat
    (the proxies' threads live as long as the process), else utime + stime from
    /proc/PID/stat, which counts in clock ticks (10 ms). Differences of two readings
    give the proxy's own cost of what ran in between: unlike wall times, they do not
    move with the load of the machine, only with the work done.
    """
    if pid is None:
        return None
    try:
        total = 0
        tasks = os.listdir(f"/proc/{pid}/task")
        for task in tasks:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        if tasks:
            return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class CpuProbe:
    """CPU seconds process `pid` used while the `with` block ran (`seconds`), or None
    when pid is None or /proc could not be read."""

    def __init__(self, pid):
        self.pid = pid
        self.seconds = None
        self._start = None

    def __enter__(self):
        self._start = cpu_seconds(self.pid)
        return self

    def __exit__(self, *exc):
        end = cpu_seconds(self.pid)
        if self._start is not None and end is not None:
            self.seconds = end - self._start
        return False


def timed(cmd, proxy_pid=None, env=None):
    """(wall time of cmd with stdout to /dev/null, the proxy's peak RSS in MB and the
    CPU seconds it used meanwhile); the last two are None without proxy_pid."""
    with RssProbe(proxy_pid) as probe, CpuProbe(proxy_pid) as cpu:
        start = time.perf_counter()
        run_checked(cmd, stdout=subprocess.DEVNULL, env=env)
        elapsed = time.perf_counter() - start
    return elapsed, probe.peak_mb, cpu.seconds


def output_digest(cmd, env=None):
    """SHA-256 and byte count of cmd's stdout, streamed."""
    h = hashlib.sha256()
    size = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as p:
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
        err = p.stderr.read().decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}\n{err.strip()}")
    return h.hexdigest(), size


def median(samples):
    return statistics.median(samples) if samples else None


def spread_pct(samples):
    """(max - min) / median in percent: how noisy a cell was."""
    if not samples or len(samples) < 2:
        return None
    m = statistics.median(samples)
    return 100.0 * (max(samples) - min(samples)) / m if m else None


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine_facts(repo, server_target=None, db="postgres", pgveil_bin=None,
                  tools=("psql", "pgbench", "pgbouncer")):
    """(key, value) pairs that say where and on what a run happened."""
    facts = [("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z"))]
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                       platform.machine())
    except OSError:
        pass
    mem_kb = _read_meminfo("MemTotal")
    facts += [
        ("cpu", f"{cpu}, nproc {os.cpu_count()}"),
        ("memory", f"{mem_kb / 1048576:.1f} GiB" if mem_kb else "unknown"),
        ("kernel", platform.release()),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]
    if server_target is not None:
        facts.append(("PostgreSQL server", _first_line(
            psql_command(server_target, db, "SELECT version()"))))
    facts += [(tool, _first_line([tool, "--version"])) for tool in tools]
    if pgveil_bin:
        # The build directory's name, not the machine's path to it.
        where = os.path.join(os.path.basename(os.path.dirname(pgveil_bin)),
                             os.path.basename(pgveil_bin))
        facts.append(("pgveil", f"{_first_line([pgveil_bin, '--version'])} ({where})"))
    head = subprocess.run(["git", "-C", repo, "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True)
    if head.returncode == 0:
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True)
        facts.append(("git commit", head.stdout.strip() +
                      (" (tracked files modified)" if dirty.stdout.strip() else "")))
    else:
        facts.append(("git commit", "unknown (not a git checkout)"))
    return facts


def _read_meminfo(field):
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


_NUMERIC = re.compile(r"^(-|n/a|yes|no|NO|-?[\d,]+(\.\d+)?( [a-zA-Z]+| of [\d,]+)?)$")


def _right_aligned(headers, rows):
    """Columns whose cells are all numbers (maybe with a unit), '-' or yes/no are
    right-aligned."""
    return [i > 0 and all(_NUMERIC.match(str(r[i])) for r in rows) for i in range(len(headers))]


def busy_warning():
    """A warning when other work loads the machine: a 1-minute load average above the
    number of cores before measuring (the setup alone stays well below)."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores:
        return (f"the machine was busy (load average {load:.2f} on {cores} cores): "
                "these numbers are not comparable; rerun on an idle machine")
    return None


def console_table(headers, rows):
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    right = _right_aligned(headers, rows)
    lines = []
    for i, row in enumerate([headers] + rows):
        cells = [str(c).rjust(w) if r else str(c).ljust(w)
                 for c, w, r in zip(row, widths, right)]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(headers, rows):
    right = _right_aligned(headers, rows)
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(out)


def fmt(value, digits):
    return "-" if value is None else f"{value:,.{digits}f}"


def verdict(value, op, threshold):
    """'PASS'/'FAIL' for value op threshold, 'n/a' when there is no value."""
    if value is None:
        return "n/a"
    ok = value >= threshold if op == ">=" else value <= threshold if op == "<=" else value < threshold
    return "PASS" if ok else "FAIL"


def write_markdown(path, title, cmdline, facts, sections):
    """sections: list of (heading, markdown body)."""
    parts = [f"# {title}", "", "Command:", "", "```", cmdline, "```", ""]
    parts += [f"- {k}: {v}" for k, v in facts]
    for heading, body in sections:
        parts += ["", f"## {heading}", "", body]
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def stop_on_signals():
    """SIGINT and SIGTERM raise SystemExit, so that subprocess.run kills the running
    client (pgbench, psql) before this process exits."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
