#!/usr/bin/env python3
"""Prints the demo's CRM screens as two logins see them through pgveil, row under row.

Usage: show.py --port P --dbname D --member-id ID [--rows N] [--screens-dir DIR]
Each screen's SQL (demo/screens/*.sql) runs through psql (--csv) once per login; each
result row is printed as the matcher sees it and then as the sales rep sees it, in one
aligned table. Cells pgveil changed are marked; widths count CJK characters as two columns.
"""
import argparse
import csv
import io
import os
import subprocess
import sys
import unicodedata

MARK = "▸"  # prefix of a masked cell


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def pad(s, w):
    return s + " " * (w - width(s))


def clip(s, limit):
    if width(s) <= limit:
        return s
    out, w = "", 0
    for c in s:
        cw = 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if w + cw > limit - 1:
            break
        out += c
        w += cw
    return out + "…"


def run_psql(port, dbname, user, password, sql_file, variables):
    cmd = ["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1",
           "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", dbname, "-f", sql_file]
    for k, v in variables.items():
        cmd += ["-v", f"{k}={v}"]
    env = dict(os.environ, PGPASSWORD=password)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        return None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "error"
    rows = list(csv.reader(io.StringIO(p.stdout)))
    return rows, None


def show_screen(title, results, max_cell):
    print(f"\n┌─ {title}")
    header = None
    body = []
    for label, (rows, err) in results:
        if err:
            body.append([label, f"ERROR: {err}"])
            continue
        if header is None and rows:
            header = rows[0]
    if header is None:
        for r in body:
            print("│ " + "  ".join(r))
        return
    (m_rows, m_err), (s_rows, s_err) = results[0][1], results[1][1]
    m_data = m_rows[1:] if m_rows else []
    s_data = s_rows[1:] if s_rows else []
    table = [["view"] + header]
    masked = 0
    for i in range(max(len(m_data), len(s_data))):
        m = m_data[i] if i < len(m_data) else None
        s = s_data[i] if i < len(s_data) else None
        if m is not None:
            table.append([results[0][0]] + [clip(v, max_cell) for v in m])
        if s is not None:
            cells = []
            for j, v in enumerate(s):
                changed = m is None or j >= len(m) or m[j] != v
                if changed:
                    masked += 1
                cells.append(clip((MARK + v) if changed else v, max_cell))
            table.append([results[1][0]] + cells)
        elif s_err:
            table.append([results[1][0], "ERROR: " + s_err])
    widths = [0] * max(len(r) for r in table)
    for r in table:
        for j, v in enumerate(r):
            widths[j] = max(widths[j], width(v))
    for n, r in enumerate(table):
        print("│ " + " │ ".join(pad(v, widths[j]) for j, v in enumerate(r)))
        if n == 0:
            print("│ " + "─┼─".join("─" * w for w in widths))
    print(f"└─ {len(m_data)} row(s) as {results[0][0]}, {len(s_data)} as {results[1][0]}; "
          f"{masked} cell(s) masked by pgveil ({MARK})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True, help="pgveil's port")
    ap.add_argument("--dbname", default="crm")
    ap.add_argument("--member-id", required=True, help="the member the screens show")
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--max-cell", type=int, default=34, help="clip cells wider than this")
    ap.add_argument("--screens-dir", default=os.path.join(os.path.dirname(__file__), "screens"))
    ap.add_argument("--password", default="veil-demo")
    args = ap.parse_args()

    logins = [("match_engine", "matcher"), ("sales_li", "sales")]
    screens = [
        ("1. Profile card", "1_profile_card.sql", {"member_id": args.member_id}),
        ("2. Who viewed me", "2_who_viewed_me.sql", {"member_id": args.member_id, "rows": args.rows}),
        ("3. Chat messages", "3_chat_messages.sql", {"member_id": args.member_id, "rows": args.rows}),
        ("4. Pool listing: 上海, income 8000-11999, height 170-174", "4_pool_listing.sql",
         {"rows": args.rows}),
    ]
    for title, f, variables in screens:
        results = []
        for user, _ in logins:
            results.append((user, run_psql(args.port, args.dbname, user, args.password,
                                           os.path.join(args.screens_dir, f), variables)))
        show_screen(title, results, args.max_cell)
    print("\n┌─ 5. A sales rep opens a member by the pseudonymous id on screen and logs a call")
    print("└─ not yet available: translating pseudonyms back to real ids comes with the query "
          "guard.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
