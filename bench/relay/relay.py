"""Relay benchmark driver: direct vs PgBouncer (pooled, and fresh: server_lifetime = 0)
vs pgveil (default, and with upstream reuse), alternating repetitions.

Started by bench/relay/run.sh once the servers are up; see bench/README.md.
Every case runs its targets in turn (direct, pgbouncer, pgbouncer-fresh, pgveil,
pgveil-reuse, direct, ...) in the order of the --target options, so that
drift in machine load hits all of them alike; each cell is the median of --reps runs.
"""

import argparse
import os
import re
import subprocess
import sys

import benchlib as bl

TPS_RE = re.compile(r"^tps = ([\d.]+) \((?:without initial connection time|"
                    r"excluding connections establishing)\)", re.M)
TX_RE = re.compile(r"^number of transactions actually processed: (\d+)", re.M)
RSS_LIMIT_MB = 64.0
TPS_MIN_RATIO = 1.00   # pgveil / PgBouncer
FETCH_MAX_RATIO = 1.10  # pgveil / direct
REUSE = "pgveil-reuse"  # pgveil --upstream_reuse true: the same targets, own verdicts


def pgbench_tps(target, db, mode, clients, jobs, duration):
    """(tps, transactions, CPU seconds the proxy behind target used meanwhile or None)."""
    cmd = ["pgbench", "-n", "-S", "-M", mode, "-c", str(clients), "-j", str(jobs),
           "-T", str(duration), "-h", "127.0.0.1", "-p", str(target.port),
           "-U", target.user, db]
    with bl.CpuProbe(target.pid) as cpu:
        out = bl.run_checked(cmd).stdout
    m, tx = TPS_RE.search(out), TX_RE.search(out)
    if not m or not tx:
        raise SystemExit(f"no tps line in pgbench output via {target.name}:\n{out}")
    return float(m[1]), int(tx[1]), cpu.seconds


def fetch_commands(table):
    return {
        "select": ("SELECT * (psql)", f"SELECT * FROM {table}"),
        "copy": ("COPY TO STDOUT (psql)", f"COPY {table} TO STDOUT"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--target", action="append", required=True,
                    help="NAME=PORT[:PID]; names direct, pgbouncer, pgbouncer-fresh, pgveil, "
                         "pgveil-reuse")
    ap.add_argument("--db", default="bench")
    ap.add_argument("--user", default="postgres")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--duration", type=int, default=20, help="seconds per pgbench run")
    ap.add_argument("--clients", default="1,16")
    ap.add_argument("--jobs", type=int, default=2, help="pgbench -j when clients > 1")
    ap.add_argument("--modes", default="simple,prepared")
    ap.add_argument("--table", default="fetch_rows")
    ap.add_argument("--rows", type=int, help="rows of --table (required unless --no-fetch)")
    ap.add_argument("--no-fetch", action="store_true",
                    help="pgbench only: leave out the 1M-row fetches and the RSS checks")
    ap.add_argument("--title", default="pgveil relay benchmark")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--repo", default=".")
    ap.add_argument("--pgveil-bin")
    ap.add_argument("--notes", default="")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = ap.parse_args()
    if not args.no_fetch and args.rows is None:
        ap.error("--rows is required unless --no-fetch")
    bl.stop_on_signals()

    targets = [bl.parse_target(t, args.user) for t in args.target]
    by_name = {t.name: t for t in targets}
    if "direct" not in by_name:
        raise SystemExit("--target direct=PORT is required")
    facts = bl.machine_facts(args.repo, by_name["direct"], args.db, args.pgveil_bin)
    facts += [("targets", ", ".join(f"{t.name} (port {t.port})" for t in targets)),
              ("repetitions", f"{args.reps} per cell, median reported, order "
                              + " → ".join(t.name for t in targets)),
              ("pgbench", f"-S, {args.duration} s per run, -j {args.jobs} above 1 client")]
    if not args.no_fetch:
        facts.append(("fetch table", f"{args.table}, {args.rows:,} rows"))
    if args.notes:
        facts.append(("notes", args.notes))
    busy = bl.busy_warning()
    if busy:
        bl.log("WARNING: " + busy)
        facts.append(("WARNING", busy))

    samples = {}   # case -> target -> [values]
    rss = {}       # case -> target -> [MB]
    cpu = {}       # case -> proxy target -> [µs per transaction, or ms per fetch]
    fetches = {} if args.no_fetch else fetch_commands(args.table)

    # Byte-identity check of both fetches; doubles as the warm-up of caches.
    identical = {}
    for kind, (_, sql) in fetches.items():
        ref = None
        for t in targets:
            digest = bl.output_digest(bl.psql_command(t, args.db, sql))
            bl.log(f"verify {kind:6} via {t.name:15}: {digest[1]:,} bytes sha256 {digest[0][:12]}")
            if t.name == "direct":
                ref = digest
            else:
                identical.setdefault(t.name, True)
                identical[t.name] &= digest == ref
    if REUSE in by_name:
        fact = bl.reuse_fact(by_name[REUSE], args.db)
        bl.log(fact)
        facts.append(("upstream reuse", fact))
    bl.log("warm-up: pgbench -S 2 s direct")
    pgbench_tps(by_name["direct"], args.db, "simple", 2, 2, 2)

    clients = [int(c) for c in args.clients.split(",")]
    modes = args.modes.split(",")
    for mode in modes:
        for c in clients:
            case = ("pgbench", mode, c)
            for rep in range(args.reps):
                for t in targets:
                    tps, tx, secs = pgbench_tps(t, args.db, mode, c,
                                                1 if c == 1 else args.jobs, args.duration)
                    samples.setdefault(case, {}).setdefault(t.name, []).append(tps)
                    extra = ""
                    if secs is not None and tx:
                        cpu.setdefault(case, {}).setdefault(t.name, []).append(secs / tx * 1e6)
                        extra = f", proxy CPU {secs / tx * 1e6:5.1f} µs/tx"
                    bl.log(f"pgbench -M {mode:8} -c {c:2} rep {rep + 1}/{args.reps} "
                           f"{t.name:15} {tps:10.1f} tps{extra}")

    for kind, (_, sql) in fetches.items():
        case = ("fetch", kind)
        for rep in range(args.reps):
            for t in targets:
                secs, peak, used = bl.timed(bl.psql_command(t, args.db, sql), t.pid)
                samples.setdefault(case, {}).setdefault(t.name, []).append(secs)
                if peak is not None:
                    rss.setdefault(case, {}).setdefault(t.name, []).append(peak)
                if used is not None:
                    cpu.setdefault(case, {}).setdefault(t.name, []).append(used * 1e3)
                extra = f", peak RSS {peak:.1f} MB" if peak is not None else ""
                extra += f", proxy CPU {used * 1e3:.0f} ms" if used is not None else ""
                bl.log(f"fetch {kind:6} rep {rep + 1}/{args.reps} {t.name:15} {secs:7.3f} s{extra}")

    lifetime = {t.name: bl.lifetime_peak_mb(t.pid) for t in targets if t.pid}

    row_dicts, failures = report_rows(samples, rss, identical, clients, modes, fetches,
                                      args.rows)
    headers, rows = report_table(row_dicts, "pgbouncer-fresh" in by_name, REUSE in by_name)
    cpu_headers, cpu_rows = cpu_table(cpu, [t.name for t in targets if t.pid], fetches,
                                      args.rows)
    print()
    print(bl.console_table(headers, rows))
    print()
    if cpu_rows:
        print("The proxies' own CPU time (all their threads, user and system):")
        print(bl.console_table(cpu_headers, cpu_rows))
        print()
    if "pgbouncer-fresh" in by_name:
        print("PgBouncer: pooled, warm backends (the target's reference). PgBouncer fresh:")
        print("server_lifetime = 0, a new backend per client like pgveil (informative).")
    if REUSE in by_name:
        print("pgveil: default, a new backend per client. pgveil reuse: --upstream_reuse true,")
        print("warm backends handed on like PgBouncer's (opt-in); verdicts in 'result (reuse)'.")
    print()
    for name, mb in lifetime.items():
        print(f"{name}: lifetime peak RSS (VmHWM, whole run) {bl.fmt(mb, 1)} MB")
    for label, key in (("pgveil", "result"), ("pgveil-reuse", "result_reuse")):
        if key == "result_reuse" and REUSE not in by_name:
            continue
        results = [r[key] for r in row_dicts]
        print(f"targets ({label}): {results.count('PASS')} PASS, {results.count('FAIL')} FAIL, "
              f"{results.count('n/a')} n/a")

    sample_rows = []
    for case, per_target in samples.items():
        for name, vals in per_target.items():
            digits = 1 if case[0] == "pgbench" else 3
            sample_rows.append([case_label(case, fetches, args.rows), name,
                                bl.fmt(bl.median(vals), digits), bl.fmt(bl.spread_pct(vals), 1),
                                ", ".join(bl.fmt(v, digits) for v in vals)])
    for case, per_target in cpu.items():
        unit = cpu_unit(case)
        for name, vals in per_target.items():
            sample_rows.append([f"proxy CPU ({unit}), {case_label(case, fetches, args.rows)}",
                                name, bl.fmt(bl.median(vals), 1), bl.fmt(bl.spread_pct(vals), 1),
                                ", ".join(bl.fmt(v, 1) for v in vals)])
    for case, per_target in rss.items():
        for name, vals in per_target.items():
            sample_rows.append([f"peak RSS (MB), {case_label(case, fetches, args.rows)}", name,
                                bl.fmt(max(vals), 1), "-", ", ".join(bl.fmt(v, 1) for v in vals)])
    sections = [
        ("Results", bl.markdown_table(headers, rows)),
        ("What the columns compare", NOTES + (REUSE_NOTES if REUSE in by_name else "")),
        ("Proxy CPU time", (bl.markdown_table(cpu_headers, cpu_rows) + "\n\n" + CPU_NOTES)
         if cpu_rows else "-"),
        ("Lifetime peak RSS", "\n".join(f"- {n}: {bl.fmt(mb, 1)} MB (VmHWM at the end of the run)"
                                        for n, mb in lifetime.items()) or "-"),
        ("All samples", bl.markdown_table(
            ["case", "target", "median (RSS: max)", "spread %", "samples in run order"],
            sample_rows)),
    ]
    facts.append(("load average at end", " ".join(f"{x:.2f}" for x in os.getloadavg())))
    bl.write_markdown(args.out, args.title, args.cmdline, facts, sections)
    if busy:
        print(f"WARNING: {busy}")
    print(f"markdown report: {args.out}")
    return 1 if args.strict and failures else 0


def case_label(case, fetches, rows):
    if case[0] == "pgbench":
        _, mode, c = case
        return f"pgbench -S -M {mode}, {c} client{'s' if c > 1 else ''}"
    return f"{fetches[case[1]][0]}, {rows:,} rows"


def ratio(a, b):
    return a / b if a is not None and b else None


CPU_NOTES = """\
CPU time used by each proxy process (every thread, user and system, read from /proc before
and after each run), divided by the transactions pgbench reports for pgbench, per fetch for
the fetches; the median of the repetitions. Unlike throughput it does not depend on how fast
the backends are, so it compares the proxies' own work even where backend warm-up decides
the tps. On a loopback connection the kernel's TCP work for the receiving side is often done
in the sender's system call, so it counts here too. Lower is better."""


def cpu_unit(case):
    """pgbench cases record µs per transaction, fetches ms per fetch."""
    return "µs/tx" if case[0] == "pgbench" else "ms"


def cpu_table(cpu, proxies, fetches, nrows):
    """headers and rows of the proxy CPU table: one row per case, one column per proxy,
    then pgveil's (and pgveil-reuse's) ratio to PgBouncer."""
    if not cpu:
        return [], []
    headers = ["case", "unit", *proxies]
    pairs = [(n, "pgbouncer") for n in ("pgveil", REUSE) if n in proxies and "pgbouncer" in proxies]
    headers += [f"{a}/PgBouncer" for a, _ in pairs]
    rows = []
    for case, per_target in cpu.items():
        med = {n: bl.median(v) for n, v in per_target.items()}
        row = [case_label(case, fetches, nrows), cpu_unit(case)]
        row += [bl.fmt(med.get(n), 1) for n in proxies]
        row += [bl.fmt(ratio(med.get(a), med.get(b)), 3) for a, b in pairs]
        rows.append(row)
    return headers, rows


# Report columns: (header, key). The PgBouncer-fresh columns appear only when that
# target ran (run.sh --no-fresh-pgbouncer leaves it out), the pgveil-reuse ones likewise
# (--no-reuse-pgveil). "result" is pgveil's verdict, "result (reuse)" pgveil-reuse's
# against the same target.
COLUMNS = [("case", "case"), ("unit", "unit"), ("direct", "direct"),
           ("PgBouncer", "pgbouncer"), ("PgBouncer fresh", "pgbouncer-fresh"),
           ("pgveil", "pgveil"), ("pgveil reuse", REUSE), ("pgveil/PgBouncer", "r_pgb"),
           ("pgveil/PgBouncer-fresh", "r_fresh"), ("pgveil/direct", "r_direct"),
           ("pgveil-reuse/PgBouncer", "rr_pgb"), ("pgveil-reuse/direct", "rr_direct"),
           ("target", "target"), ("result", "result"), ("result (reuse)", "result_reuse")]
FRESH_KEYS = ("pgbouncer-fresh", "r_fresh")
REUSE_KEYS = (REUSE, "rr_pgb", "rr_direct", "result_reuse")


def report_table(rows, with_fresh, with_reuse):
    """headers and list-of-lists rows from the dict rows of report_rows."""
    cols = [(h, k) for h, k in COLUMNS
            if (with_fresh or k not in FRESH_KEYS) and (with_reuse or k not in REUSE_KEYS)]
    return [h for h, _ in cols], [[r.get(k, "-") for _, k in cols] for r in rows]


NOTES = """\
- **PgBouncer** is the reference of the targets (pgveil/PgBouncer >= 1.00). In session
  mode it keeps a server connection when its client leaves and hands it to the next
  client, so after the first run its clients get *warm* PostgreSQL backends: catalog
  caches filled, shared buffers already mapped into the backend's page tables.
- **PgBouncer fresh** is the same PgBouncer with `server_lifetime = 0` ("a server
  connection is used only once, then closed"): every client gets a new backend. pgveil
  does not pool either: it opens one upstream connection per client and closes it with
  the client. So pgveil/PgBouncer-fresh compares the two proxies on equal terms, one
  upstream connection per client on both sides. It is shown for information, without a
  verdict.
- A new backend is slower for its first seconds of load (it maps shared buffers page by
  page and fills its caches), and that warm-up falls inside every pgbench run through
  pgveil, PgBouncer fresh and direct (pgbench connects anew each run), but not through
  the default PgBouncer. The two PgBouncers differ in nothing else, so the gap between
  their columns is that warm-up, not proxy work; it shrinks with a longer `--duration`.
- Ratios are pgveil divided by the column named: for tps higher is better, for times
  lower is better."""

REUSE_NOTES = """
- **pgveil** (default) opens one new backend per client, like PgBouncer fresh; **pgveil
  reuse** is a second pgveil started with `--upstream_reuse true` (opt-in), which hands a
  cleanly ended session's backend, reset with `DISCARD ALL`, to the next client with the
  same startup packet once the server has authenticated it: warm backends, like the
  default PgBouncer. Its ratios have the same targets, with their own verdicts in
  "result (reuse)"; the "result" column stays pgveil's (default)."""


def report_rows(samples, rss, identical, clients, modes, fetches, nrows):
    """One dict per report row (keys as in COLUMNS) and the number of FAILs."""
    rows = []
    for mode in modes:
        for c in clients:
            case = ("pgbench", mode, c)
            med = {n: bl.median(v) for n, v in samples[case].items()}
            r_pgb = ratio(med.get("pgveil"), med.get("pgbouncer"))
            rr_pgb = ratio(med.get(REUSE), med.get("pgbouncer"))
            row = {n: bl.fmt(v, 0) for n, v in med.items()}
            row.update(case=case_label(case, fetches, nrows), unit="tps", r_pgb=bl.fmt(r_pgb, 3),
                       r_fresh=bl.fmt(ratio(med.get("pgveil"), med.get("pgbouncer-fresh")), 3),
                       r_direct=bl.fmt(ratio(med.get("pgveil"), med.get("direct")), 3),
                       rr_pgb=bl.fmt(rr_pgb, 3),
                       rr_direct=bl.fmt(ratio(med.get(REUSE), med.get("direct")), 3),
                       target=f"pgveil/PgBouncer >= {TPS_MIN_RATIO:.2f}",
                       result=bl.verdict(r_pgb, ">=", TPS_MIN_RATIO),
                       result_reuse=bl.verdict(rr_pgb, ">=", TPS_MIN_RATIO))
            rows.append(row)
    for kind in fetches:
        case = ("fetch", kind)
        med = {n: bl.median(v) for n, v in samples[case].items()}
        r_direct = ratio(med.get("pgveil"), med.get("direct"))
        rr_direct = ratio(med.get(REUSE), med.get("direct"))
        row = {n: bl.fmt(v, 3) for n, v in med.items()}
        row.update(case=case_label(case, fetches, nrows), unit="s",
                   r_pgb=bl.fmt(ratio(med.get("pgveil"), med.get("pgbouncer")), 3),
                   r_fresh=bl.fmt(ratio(med.get("pgveil"), med.get("pgbouncer-fresh")), 3),
                   r_direct=bl.fmt(r_direct, 3),
                   rr_pgb=bl.fmt(ratio(med.get(REUSE), med.get("pgbouncer")), 3),
                   rr_direct=bl.fmt(rr_direct, 3),
                   target=f"pgveil/direct <= {FETCH_MAX_RATIO:.2f}",
                   result=bl.verdict(r_direct, "<=", FETCH_MAX_RATIO),
                   result_reuse=bl.verdict(rr_direct, "<=", FETCH_MAX_RATIO))
        rows.append(row)
    for kind in fetches:
        peaks = {n: max(v) for n, v in rss.get(("fetch", kind), {}).items()}
        row = {n: bl.fmt(v, 1) for n, v in peaks.items()}
        row.update(case=f"peak RSS during {fetches[kind][0]}", unit="MB",
                   target=f"pgveil < {RSS_LIMIT_MB:.0f} MB",
                   result=bl.verdict(peaks.get("pgveil"), "<", RSS_LIMIT_MB),
                   result_reuse=bl.verdict(peaks.get(REUSE), "<", RSS_LIMIT_MB))
        rows.append(row)

    def same(name):
        return "n/a" if name not in identical else ("PASS" if identical[name] else "FAIL")

    if fetches:
        row = {n: ("yes" if ok else "NO") for n, ok in identical.items()}
        row.update(case="fetch output byte-identical to direct", unit="",
                   target="pgveil identical", result=same("pgveil"), result_reuse=same(REUSE))
        rows.append(row)
    failures = sum(r[k] == "FAIL" for r in rows for k in ("result", "result_reuse"))
    return rows, failures


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.SubprocessError as e:
        sys.exit(f"relay benchmark: {e}")
