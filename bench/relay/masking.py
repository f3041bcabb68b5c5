"""Masking benchmark driver: direct vs pgveil as the matcher vs pgveil as sales.

Started by bench/relay/masking.sh once PostgreSQL (with the CRM demo) and pgveil are up;
see bench/README.md. Before timing, one verification pass checks that the matcher's
result is byte-identical to the direct one and counts the columns sales gets masked
(a column is masked when its multiset of values differs from the direct one).
"""

import argparse
import collections
import hashlib
import os
import subprocess
import sys

import benchlib as bl

MATCHER_MAX_RATIO = 1.10  # matcher through pgveil / direct
SALES_MAX_RATIO = 1.30    # sales through pgveil / direct
MIN_MASKED_COLUMNS = 6
FIELD_SEP = "\x1f"
RECORD_SEP = "\x1e"


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


def _with_unit(value, digits, unit):
    return "-" if value is None else f"{bl.fmt(value, digits)} {unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--direct", type=int, required=True, help="PostgreSQL port")
    ap.add_argument("--proxy", required=True, help="pgveil PORT:PID")
    ap.add_argument("--db", default="crm")
    ap.add_argument("--matcher", default="match_engine")
    ap.add_argument("--sales", default="sales_li")
    ap.add_argument("--reps", type=int, default=5)
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
    targets = [bl.Target("direct", args.direct, args.matcher),
               bl.Target("matcher", port, args.matcher, pid),
               bl.Target("sales", port, args.sales, pid)]
    query = " ".join(args.query.split())
    facts = bl.machine_facts(args.repo, bl.Target("server", args.direct, "postgres"), args.db,
                             args.pgveil_bin, tools=("psql",))
    facts += [("targets", f"direct as {args.matcher} (port {args.direct}); pgveil as "
                          f"{args.matcher} and as {args.sales} (port {port})"),
              ("repetitions", f"{args.reps} per cell, median reported, order direct → "
                              "matcher → sales"),
              ("query", f"`{query}`")]
    if args.notes:
        facts.append(("notes", args.notes))
    busy = bl.busy_warning()
    if busy:
        bl.log("WARNING: " + busy)
        facts.append(("WARNING", busy))

    # Verification pass (also the warm-up).
    header, direct_rows, direct_sha = fetch_all(targets[0], args.db, query)
    _, matcher_rows, matcher_sha = fetch_all(targets[1], args.db, query)
    sales_header, sales_rows, _ = fetch_all(targets[2], args.db, query)
    for name, rows in (("direct", direct_rows), ("matcher", matcher_rows), ("sales", sales_rows)):
        bl.log(f"verify: {name:8} {len(rows):,} rows")
        if len(rows) != args.rows:
            raise SystemExit(f"{name} returned {len(rows):,} rows, expected {args.rows:,}")
    identical = matcher_sha == direct_sha or sorted(matcher_rows) == sorted(direct_rows)
    masked = masked_columns(header, direct_rows, sales_rows)
    bl.log(f"verify: matcher identical to direct: {identical}; sales masked "
           f"{len(masked)}/{len(header)} columns: {', '.join(masked)}")
    if sales_header != header:
        bl.log(f"note: sales column names differ: {sales_header}")
    del direct_rows, matcher_rows, sales_rows

    times = {t.name: [] for t in targets}
    rss = {t.name: [] for t in targets if t.pid}
    for rep in range(args.reps):
        for t in targets:
            secs, peak = bl.timed(bl.psql_command(t, args.db, query), t.pid)
            times[t.name].append(secs)
            if peak is not None:
                rss[t.name].append(peak)
            extra = f", pgveil peak RSS {peak:.1f} MB" if peak is not None else ""
            bl.log(f"rep {rep + 1}/{args.reps} {t.name:8} {secs:7.3f} s{extra}")

    med = {n: bl.median(v) for n, v in times.items()}
    r_matcher = med["matcher"] / med["direct"]
    r_sales = med["sales"] / med["direct"]
    values = args.rows * len(masked)
    cost_vs_matcher = (med["sales"] - med["matcher"]) / values * 1e9 if values else None
    cost_vs_direct = (med["sales"] - med["direct"]) / values * 1e9 if values else None

    time_headers = ["case", "unit", "direct", "pgveil matcher", "pgveil sales",
                    "matcher/direct", "sales/direct"]
    time_rows = [[f"SELECT {args.rows:,} rows x {len(header)} columns", "s",
                  bl.fmt(med["direct"], 3), bl.fmt(med["matcher"], 3), bl.fmt(med["sales"], 3),
                  bl.fmt(r_matcher, 3), bl.fmt(r_sales, 3)],
                 ["spread (max-min)/median", "%"] +
                 [bl.fmt(bl.spread_pct(times[n]), 1) for n in ("direct", "matcher", "sales")] +
                 ["-", "-"]]
    check_headers = ["check", "value", "target", "result"]
    check_rows = [
        ["matcher through pgveil / direct (time)", bl.fmt(r_matcher, 3),
         f"<= {MATCHER_MAX_RATIO:.2f}", bl.verdict(r_matcher, "<=", MATCHER_MAX_RATIO)],
        # Without masked columns the sales time says nothing about masking.
        ["sales through pgveil / direct (time)", bl.fmt(r_sales, 3),
         f"<= {SALES_MAX_RATIO:.2f}",
         bl.verdict(r_sales if masked else None, "<=", SALES_MAX_RATIO)],
        ["masked columns for sales", f"{len(masked)} of {len(header)}",
         f">= {MIN_MASKED_COLUMNS}", "PASS" if len(masked) >= MIN_MASKED_COLUMNS else "FAIL"],
        ["matcher output identical to direct", "yes" if identical else "NO", "yes",
         "PASS" if identical else "FAIL"],
        ["cost per masked value, (sales - matcher) / values", _with_unit(cost_vs_matcher, 0, "ns"),
         "-", "-"],
        ["cost per masked value, (sales - direct) / values", _with_unit(cost_vs_direct, 0, "ns"),
         "-", "-"],
        ["pgveil peak RSS during the SELECT (max)",
         _with_unit(max(rss["matcher"] + rss["sales"]), 1, "MB"), "-", "-"],
    ]
    failures = sum(r[-1] == "FAIL" for r in check_rows)
    print()
    print(bl.console_table(time_headers, time_rows))
    print()
    print(bl.console_table(check_headers, check_rows))
    print()
    print(f"masked columns: {', '.join(masked) or 'none'}")
    print(f"targets: {sum(r[-1] == 'PASS' for r in check_rows)} PASS, {failures} FAIL, "
          f"{sum(r[-1] == 'n/a' for r in check_rows)} n/a")

    sample_rows = [[n, bl.fmt(med[n], 3), ", ".join(bl.fmt(v, 3) for v in vals)]
                   for n, vals in times.items()]
    sample_rows += [[f"{n} peak RSS (MB)", bl.fmt(max(v), 1), ", ".join(bl.fmt(x, 1) for x in v)]
                    for n, v in rss.items()]
    facts.append(("load average at end", " ".join(f"{x:.2f}" for x in os.getloadavg())))
    bl.write_markdown(args.out, "pgveil masking benchmark", args.cmdline, facts, [
        ("Times", bl.markdown_table(time_headers, time_rows)),
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
