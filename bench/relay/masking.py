"""Masking benchmark driver: direct vs PgBouncer with a new backend per client (the
reference for "any proxy") vs pgveil as the matcher vs pgveil as sales, and optionally
the matcher and sales through a second pgveil with upstream reuse (warm backends).

Started by bench/relay/masking.sh once PostgreSQL (with the CRM demo), PgBouncer and
pgveil are up; see bench/README.md. Before timing, one verification pass checks that the
matcher's and PgBouncer's results are byte-identical to the direct one (and the reuse
matcher's too, and the reuse sales result to the default sales one) and counts the
columns sales gets masked (a column is masked when its multiset of values differs from
the direct one). Two measurements follow, both alternating the targets:

- per connection: one psql per query, wall time (connection set-up and the new
  backend's first query included); the verdicts are on this one;
- steady state: one psql session per target running the query three times under
  \\timing; the median of the 2nd and 3rd `Time:` is reported.
"""

import argparse
import collections
import hashlib
import os
import re
import subprocess
import sys
import time

import benchlib as bl

MATCHER_MAX_RATIO = 1.10  # matcher through pgveil / direct
SALES_MAX_RATIO = 1.30    # sales through pgveil / direct
MIN_MASKED_COLUMNS = 6
FIELD_SEP = "\x1f"
RECORD_SEP = "\x1e"
STEADY_RUNS = 3  # queries per steady-state session; the 1st is left out
TIME_RE = re.compile(r"^Time: ([\d.]+) ms", re.M)
FRESH = "pgbouncer-fresh"
M_REUSE = "matcher (reuse)"  # through the pgveil with --upstream_reuse true
S_REUSE = "sales (reuse)"
NOTES = """\
- **per connection**: one `psql -c` per query, wall time. It includes the connection
  set-up and the first query of a new PostgreSQL backend, which is slower (empty catalog
  and plan caches, shared buffers not yet mapped). Each direct psql gets a new backend,
  and pgveil opens one upstream connection per client, so every timed query through it
  runs on a new backend too. The verdicts are
  on this measurement, against direct, as the targets say.
- **PgBouncer fresh** is PgBouncer in session mode with `server_lifetime = 0` (a server
  connection is used once, then closed), so it too gives every client a new backend:
  it shows what any proxy in front of the same cluster pays here. Its clients
  authenticate like the direct ones (see `auth` in the facts). Ratios against it are
  informative, without a verdict.
- **steady state**: one psql session per target runs the query three times with
  `\\timing on` and output to /dev/null; reported is the median of the 2nd and 3rd
  `Time:` (psql's own timing of the query), i.e. without connection set-up and without
  the new backend's first query. This is the relay and masking cost alone.
- **the proxy's CPU time per query**: the CPU (user and system, all threads) that the
  proxy process used during each per-connection query, from /proc, median. It does not
  move with the machine's load as wall times do; the cost per masked value computed from
  it, (sales - matcher) / masked values, is pgveil's masking work alone.
- Ratios are the first name divided by the second; lower is better."""
REUSE_NOTES = """
- **matcher (reuse)** and **sales (reuse)** go through a second pgveil, started with
  `--upstream_reuse true` and the same masking arguments. Default pgveil opens one new
  backend per client, like PgBouncer fresh; with reuse (opt-in) a cleanly ended
  session's backend is reset with `DISCARD ALL` and handed to the next client with the
  same startup packet once the server has authenticated it, so its timed queries run on
  warm backends (the verification pass warms one per login). Their ratios against
  direct have the same targets, with their own verdicts; the other verdicts are
  unchanged."""


def fetch_all(target, db, query):
    """(column names, list of records as tuples of strings, sha256 of the raw output)."""
    cmd = bl.psql_command(target, db, query,
                          extra=["-F", FIELD_SEP, "-R", RECORD_SEP, "-P", "footer=off",
                                 "-P", "null=\\N"], tuples_only=False)
    out = bl.run_checked(cmd, text=False).stdout
    text = out.decode("utf-8", errors="surrogateescape")
    records = text.rstrip("\n").split(RECORD_SEP)
    header, body = records[0].split(FIELD_SEP), records[1:]
    rows = [tuple(r.split(FIELD_SEP)) for r in body]
    return header, rows, hashlib.sha256(out).hexdigest()


def masked_columns(header, direct_rows, sales_rows):
    """Names of the columns whose values (as multisets) differ between the two results."""
    masked = []
    for i, name in enumerate(header):
        a = collections.Counter(r[i] if i < len(r) else None for r in direct_rows)
        b = collections.Counter(r[i] if i < len(r) else None for r in sales_rows)
        if a != b:
            masked.append(name)
    return masked


def steady_times(target, db, query):
    """Seconds of each of STEADY_RUNS runs of query in one psql session (psql \\timing)."""
    script = "\\timing on\n\\o /dev/null\n" + f"{query};\n" * STEADY_RUNS
    cmd = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
           "-p", str(target.port), "-U", target.user, "-d", db, "-f", "-"]
    out = bl.run_checked(cmd, input=script).stdout
    times = [float(m) / 1000.0 for m in TIME_RE.findall(out)]
    if len(times) != STEADY_RUNS:
        raise SystemExit(f"steady state via {target.name}: expected {STEADY_RUNS} "
                         f"'Time:' lines from psql, got {len(times)}")
    return times


def ratio(a, b):
    return a / b if a is not None and b else None


def _with_unit(value, digits, unit):
    return "-" if value is None else f"{bl.fmt(value, digits)} {unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--direct", type=int, required=True, help="PostgreSQL port")
    ap.add_argument("--proxy", required=True, help="pgveil PORT:PID")
    ap.add_argument("--proxy-reuse", help="pgveil with --upstream_reuse true, PORT:PID")
    ap.add_argument("--pgbouncer", help="PgBouncer with server_lifetime = 0, PORT:PID")
    ap.add_argument("--pgbouncer-auth", default="-", help="its auth_type, for the report")
    ap.add_argument("--db", default="crm")
    ap.add_argument("--matcher", default="match_engine")
    ap.add_argument("--sales", default="sales_li")
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--pause", type=float, default=0.5,
                    help="seconds of rest before each timed query (default 0.5)")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--repo", default=".")
    ap.add_argument("--pgveil-bin")
    ap.add_argument("--notes", default="")
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args()
    bl.stop_on_signals()

    port, pid = args.proxy.split(":")
    targets = [bl.Target("direct", args.direct, args.matcher)]
    if args.pgbouncer:
        pgb_port, pgb_pid = args.pgbouncer.split(":")
        targets.append(bl.Target(FRESH, pgb_port, args.matcher, pgb_pid))
    targets += [bl.Target("matcher", port, args.matcher, pid),
                bl.Target("sales", port, args.sales, pid)]
    if args.proxy_reuse:
        reuse_port, reuse_pid = args.proxy_reuse.split(":")
        targets += [bl.Target(M_REUSE, reuse_port, args.matcher, reuse_pid),
                    bl.Target(S_REUSE, reuse_port, args.sales, reuse_pid)]
    by_name = {t.name: t for t in targets}
    names = [t.name for t in targets]
    query = " ".join(args.query.split()).rstrip("; ")
    facts = bl.machine_facts(args.repo, bl.Target("server", args.direct, "postgres"), args.db,
                             args.pgveil_bin,
                             tools=("psql", "pgbouncer") if args.pgbouncer else ("psql",))
    where = f"direct as {args.matcher} (port {args.direct}); "
    if args.pgbouncer:
        where += (f"PgBouncer (session mode, server_lifetime = 0) as {args.matcher} "
                  f"(port {pgb_port}); ")
    where += f"pgveil as {args.matcher} and as {args.sales} (port {port})"
    if args.proxy_reuse:
        where += (f"; pgveil --upstream_reuse true as {args.matcher} and as {args.sales} "
                  f"(port {reuse_port})")
    facts += [("targets", where),
              ("repetitions", f"{args.reps} per cell, median reported, order "
                              + " → ".join(names)),
              ("query", f"`{query}`")]
    if args.pgbouncer:
        facts.append(("auth", f"PgBouncer clients: auth_type {args.pgbouncer_auth}"))
    if args.notes:
        facts.append(("notes", args.notes))
    busy = bl.busy_warning()
    if busy:
        bl.log("WARNING: " + busy)
        facts.append(("WARNING", busy))

    # Verification pass (also the warm-up).
    header, direct_rows, direct_sha = fetch_all(by_name["direct"], args.db, query)
    checked = {"direct": direct_rows}
    identical = {}
    for name in (FRESH, "matcher", M_REUSE):
        if name in by_name:
            _, rows, sha = fetch_all(by_name[name], args.db, query)
            checked[name] = rows
            identical[name] = sha == direct_sha or sorted(rows) == sorted(direct_rows)
    sales_header, sales_rows, sales_sha = fetch_all(by_name["sales"], args.db, query)
    checked["sales"] = sales_rows
    if S_REUSE in by_name:
        # The same rules and keys: masked exactly like sales through the default pgveil.
        _, rows, sha = fetch_all(by_name[S_REUSE], args.db, query)
        checked[S_REUSE] = rows
        identical[S_REUSE] = sha == sales_sha or sorted(rows) == sorted(sales_rows)
    for name, rows in checked.items():
        bl.log(f"verify: {name:15} {len(rows):,} rows")
        if len(rows) != args.rows:
            raise SystemExit(f"{name} returned {len(rows):,} rows, expected {args.rows:,}")
    masked = masked_columns(header, direct_rows, sales_rows)
    bl.log("verify: identical to direct (sales (reuse): to sales): "
           + ", ".join(f"{n} {ok}" for n, ok in identical.items())
           + f"; sales masked {len(masked)}/{len(header)} columns: {', '.join(masked)}")
    if sales_header != header:
        bl.log(f"note: sales column names differ: {sales_header}")
    del direct_rows, sales_rows, checked

    if M_REUSE in by_name:
        fact = bl.reuse_fact(by_name[M_REUSE], args.db)
        bl.log(fact)
        facts.append(("upstream reuse", fact))

    # Measurement 1: one psql (one connection, one new backend) per query.
    times = {n: [] for n in names}
    rss = {t.name: [] for t in targets if t.pid}
    cpu = {t.name: [] for t in targets if t.pid}  # the proxy's CPU seconds per query
    for rep in range(args.reps):
        for t in targets:
            # The backend of the previous query is still exiting (it unmaps the shared
            # buffers from its page tables): let that finish so as not to time it too.
            time.sleep(args.pause)
            secs, peak, used = bl.timed(bl.psql_command(t, args.db, query), t.pid)
            times[t.name].append(secs)
            if peak is not None:
                rss[t.name].append(peak)
            if used is not None:
                cpu[t.name].append(used)
            extra = f", proxy peak RSS {peak:.1f} MB" if peak is not None else ""
            extra += f", proxy CPU {used * 1e3:.0f} ms" if used is not None else ""
            bl.log(f"per connection rep {rep + 1}/{args.reps} {t.name:15} {secs:7.3f} s{extra}")

    # Measurement 2: steady state, the 2nd and 3rd run in one session.
    runs = {n: [] for n in names}     # per rep: the STEADY_RUNS times of one session
    for rep in range(args.reps):
        for t in targets:
            time.sleep(args.pause)
            runs[t.name].append(steady_times(t, args.db, query))
            bl.log(f"steady state rep {rep + 1}/{args.reps} {t.name:15} "
                   + " ".join(f"{x:7.3f}" for x in runs[t.name][-1]) + " s")
    steady = {n: [bl.median(r[1:]) for r in rs] for n, rs in runs.items()}
    first = {n: [r[0] for r in rs] for n, rs in runs.items()}

    med = {n: bl.median(v) for n, v in times.items()}
    med_steady = {n: bl.median(v) for n, v in steady.items()}
    med_first = {n: bl.median(v) for n, v in first.items()}
    r_matcher = ratio(med["matcher"], med["direct"])
    r_sales = ratio(med["sales"], med["direct"])
    values = args.rows * len(masked)

    def per_value(a, b):
        return (a - b) / values * 1e9 if values else None

    shape = f"{args.rows:,} rows x {len(header)} columns"
    reuse = M_REUSE in by_name
    column_names = {"direct": "direct", FRESH: "PgBouncer fresh", "matcher": "pgveil matcher",
                    "sales": "pgveil sales", M_REUSE: "pgveil matcher (reuse)",
                    S_REUSE: "pgveil sales (reuse)"}
    time_headers = ["measurement", "unit"] + [column_names[n] for n in names] + \
        ["matcher/direct", "sales/direct"] + \
        (["matcher (reuse)/direct", "sales (reuse)/direct"] if reuse else []) + \
        (["matcher/PgBouncer-fresh", "PgBouncer-fresh/direct"] if FRESH in by_name else [])

    def time_row(label, m):
        row = [label, "s"] + [bl.fmt(m.get(n), 3) for n in names]
        row += [bl.fmt(ratio(m["matcher"], m["direct"]), 3),
                bl.fmt(ratio(m["sales"], m["direct"]), 3)]
        if reuse:
            row += [bl.fmt(ratio(m[M_REUSE], m["direct"]), 3),
                    bl.fmt(ratio(m[S_REUSE], m["direct"]), 3)]
        if FRESH in by_name:
            row += [bl.fmt(ratio(m["matcher"], m[FRESH]), 3),
                    bl.fmt(ratio(m[FRESH], m["direct"]), 3)]
        return row

    def spread_row(label, per_target):
        return ([label, "%"] + [bl.fmt(bl.spread_pct(per_target[n]), 1) for n in names]
                + ["-"] * (len(time_headers) - 2 - len(names)))

    med_cpu = {n: bl.median(v) for n, v in cpu.items()}
    cpu_row = (["  the proxy's CPU time per query (all threads)", "ms"]
               + [bl.fmt(med_cpu[n] * 1e3, 0) if med_cpu.get(n) is not None else "-"
                  for n in names]
               + ["-"] * (len(time_headers) - 2 - len(names)))
    time_rows = [time_row(f"per connection (psql -c): SELECT {shape}", med),
                 spread_row("  spread (max-min)/median", times),
                 cpu_row,
                 time_row("steady state (one session, median of runs 2 and 3)", med_steady),
                 spread_row("  spread (max-min)/median", steady),
                 time_row("  for reference: run 1 of that session", med_first)]
    check_headers = ["check", "value", "target", "result"]
    check_rows = [
        ["matcher through pgveil / direct (time, per connection)", bl.fmt(r_matcher, 3),
         f"<= {MATCHER_MAX_RATIO:.2f}", bl.verdict(r_matcher, "<=", MATCHER_MAX_RATIO)],
        # Without masked columns the sales time says nothing about masking.
        ["sales through pgveil / direct (time, per connection)", bl.fmt(r_sales, 3),
         f"<= {SALES_MAX_RATIO:.2f}",
         bl.verdict(r_sales if masked else None, "<=", SALES_MAX_RATIO)],
        ["masked columns for sales", f"{len(masked)} of {len(header)}",
         f">= {MIN_MASKED_COLUMNS}", "PASS" if len(masked) >= MIN_MASKED_COLUMNS else "FAIL"],
        ["matcher output identical to direct", "yes" if identical["matcher"] else "NO", "yes",
         "PASS" if identical["matcher"] else "FAIL"],
    ]
    if FRESH in identical:
        check_rows.append(["PgBouncer fresh output identical to direct",
                           "yes" if identical[FRESH] else "NO", "yes",
                           "PASS" if identical[FRESH] else "FAIL"])
    if reuse:
        r_matcher_reuse = ratio(med[M_REUSE], med["direct"])
        r_sales_reuse = ratio(med[S_REUSE], med["direct"])
        check_rows += [
            ["matcher (reuse) through pgveil / direct (time, per connection)",
             bl.fmt(r_matcher_reuse, 3), f"<= {MATCHER_MAX_RATIO:.2f}",
             bl.verdict(r_matcher_reuse, "<=", MATCHER_MAX_RATIO)],
            ["sales (reuse) through pgveil / direct (time, per connection)",
             bl.fmt(r_sales_reuse, 3), f"<= {SALES_MAX_RATIO:.2f}",
             bl.verdict(r_sales_reuse if masked else None, "<=", SALES_MAX_RATIO)],
            ["matcher (reuse) output identical to direct",
             "yes" if identical[M_REUSE] else "NO", "yes",
             "PASS" if identical[M_REUSE] else "FAIL"],
            ["sales (reuse) output identical to pgveil sales (masked alike)",
             "yes" if identical[S_REUSE] else "NO", "yes",
             "PASS" if identical[S_REUSE] else "FAIL"]]
    if med_cpu.get("sales") is not None and med_cpu.get("matcher") is not None:
        # pgveil's CPU, not the wall clock: does not move with the machine's load.
        check_rows.append(["cost per masked value, pgveil CPU (sales - matcher) / values, "
                           "per connection",
                           _with_unit(per_value(med_cpu["sales"], med_cpu["matcher"]), 0, "ns"),
                           "-", "-"])
    if med_cpu.get("matcher") is not None and med_cpu.get(FRESH) is not None:
        check_rows.append(["relay CPU, pgveil matcher / PgBouncer fresh, per connection",
                           bl.fmt(ratio(med_cpu["matcher"], med_cpu[FRESH]), 3), "-", "-"])
    for label, m in (("per connection", med), ("steady state", med_steady)):
        check_rows += [
            [f"cost per masked value, (sales - matcher) / values, {label}",
             _with_unit(per_value(m["sales"], m["matcher"]), 0, "ns"), "-", "-"],
            [f"cost per masked value, (sales - direct) / values, {label}",
             _with_unit(per_value(m["sales"], m["direct"]), 0, "ns"), "-", "-"]]
        if reuse:
            check_rows.append(
                [f"cost per masked value, (sales (reuse) - matcher (reuse)) / values, {label}",
                 _with_unit(per_value(m[S_REUSE], m[M_REUSE]), 0, "ns"), "-", "-"])
    check_rows.append(["pgveil peak RSS during the SELECT (max)",
                       _with_unit(max(rss["matcher"] + rss["sales"]), 1, "MB"), "-", "-"])
    if reuse:
        check_rows.append(["pgveil (reuse) peak RSS during the SELECT (max)",
                           _with_unit(max(rss[M_REUSE] + rss[S_REUSE]), 1, "MB"), "-", "-"])
    failures = sum(r[-1] == "FAIL" for r in check_rows)
    print()
    print(bl.console_table(time_headers, time_rows))
    print()
    print(bl.console_table(check_headers, check_rows))
    print()
    print(f"masked columns: {', '.join(masked) or 'none'}")
    if FRESH in by_name:
        print("PgBouncer fresh: session mode, server_lifetime = 0 (a new backend per client, "
              "like pgveil); informative, no verdict")
    if reuse:
        print("pgveil: default, a new backend per client; (reuse): a second pgveil with "
              "--upstream_reuse true, warm backends (opt-in), own verdicts")
    print(f"targets: {sum(r[-1] == 'PASS' for r in check_rows)} PASS, {failures} FAIL, "
          f"{sum(r[-1] == 'n/a' for r in check_rows)} n/a")

    sample_rows = [[f"{n}, per connection", bl.fmt(med[n], 3),
                    ", ".join(bl.fmt(v, 3) for v in vals)] for n, vals in times.items()]
    sample_rows += [[f"{n}, steady state (runs 1 / 2 / 3 of each session)",
                     bl.fmt(med_steady[n], 3),
                     ", ".join(" / ".join(bl.fmt(x, 3) for x in r) for r in rs)]
                    for n, rs in runs.items()]
    sample_rows += [[f"{n} peak RSS (MB)", bl.fmt(max(v), 1), ", ".join(bl.fmt(x, 1) for x in v)]
                    for n, v in rss.items()]
    sample_rows += [[f"{n} proxy CPU per query (ms), per connection", bl.fmt(med_cpu[n] * 1e3, 0),
                     ", ".join(bl.fmt(x * 1e3, 0) for x in v)] for n, v in cpu.items() if v]
    facts.append(("load average at end", " ".join(f"{x:.2f}" for x in os.getloadavg())))
    bl.write_markdown(args.out, "pgveil masking benchmark", args.cmdline, facts, [
        ("Times", bl.markdown_table(time_headers, time_rows)),
        ("What the measurements compare", NOTES + (REUSE_NOTES if reuse else "")),
        ("Checks", bl.markdown_table(check_headers, check_rows)
         + f"\n\nMasked columns: {', '.join(masked) or 'none'}"),
        ("All samples", bl.markdown_table(["target", "median", "samples in run order"],
                                          sample_rows)),
    ])
    if busy:
        print(f"WARNING: {busy}")
    print(f"markdown report: {args.out}")
    return 1 if args.strict and failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.SubprocessError as e:
        sys.exit(f"masking benchmark: {e}")
