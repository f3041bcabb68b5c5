#!/usr/bin/env python3
"""Prints the demo's CRM screens as two logins see them through pgveil, row under row.

Usage: show.py --port P --dbname D --member-id ID --sales-member-id PSEUDONYM [--rows N]
       [--screens-dir DIR]
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
import shutil
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


def print_table(table):
    widths = [0] * max(len(r) for r in table)
    for r in table:
        for j, v in enumerate(r):
            widths[j] = max(widths[j], width(v))
    for n, r in enumerate(table):
        print("│ " + " │ ".join(pad(v, widths[j]) for j, v in enumerate(r)).rstrip())
        if n == 0:
            print("│ " + "─┼─".join("─" * w for w in widths))


def show_screen(title, results, max_cell, term_width):
    print(f"\n┌─ {title}")
    (m_label, (m_rows, m_err)), (s_label, (s_rows, s_err)) = results
    for label, err in ((m_label, m_err), (s_label, s_err)):
        if err:
            print(f"│ {label}: ERROR: {err}")
    header = (m_rows or s_rows or [[]])[0]
    m_data = m_rows[1:] if m_rows else []
    s_data = s_rows[1:] if s_rows else []
    masked = 0

    def mark(m, s, j):
        nonlocal masked
        v = s[j] if j < len(s) else ""
        if m is None or j >= len(m) or m[j] != v:
            masked += 1
            return MARK + v
        return v

    if len(m_data) <= 1 and len(s_data) <= 1 and header:
        # One record: a card, field by field.
        m = m_data[0] if m_data else None
        s = s_data[0] if s_data else None
        table = [["field", m_label, s_label]]
        for j, name in enumerate(header):
            table.append([name, clip(m[j] if m else "", max_cell),
                          clip(mark(m, s, j), max_cell) if s else ""])
        print_table(table)
    elif header:
        rows = []
        for i in range(max(len(m_data), len(s_data))):
            m = m_data[i] if i < len(m_data) else None
            s = s_data[i] if i < len(s_data) else None
            if m is not None:
                rows.append([m_label] + [clip(v, max_cell) for v in m])
            if s is not None:
                rows.append([s_label] + [clip(mark(m, s, j), max_cell) for j in range(len(s))])
        # Split wide results into column groups that fit the terminal.
        cols = list(range(len(header)))
        groups, cur, cur_w = [], [], width("sales_li") + 4
        for j in cols:
            w = max([width(header[j])] + [width(r[j + 1]) for r in rows if j + 1 < len(r)]) + 3
            if cur and cur_w + w > term_width:
                groups.append(cur)
                cur, cur_w = [], width("sales_li") + 4
            cur.append(j)
            cur_w += w
        if cur:
            groups.append(cur)
        for g in groups:
            table = [["view"] + [header[j] for j in g]]
            for r in rows:
                table.append([r[0]] + [r[j + 1] if j + 1 < len(r) else "" for j in g])
            print_table(table)
    print(f"└─ {len(m_data)} row(s) as {m_label}, {len(s_data)} as {s_label}; "
          f"{masked} cell(s) masked by pgveil ({MARK})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True, help="pgveil's port")
    ap.add_argument("--dbname", default="crm")
    ap.add_argument("--member-id", required=True, help="the member the screens show")
    ap.add_argument("--sales-member-id", required=True,
                    help="the same member's id as the sales policy shows it (a pseudonym)")
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--max-cell", type=int, default=40, help="clip cells wider than this")
    ap.add_argument("--width", type=int, default=0, help="terminal width (default: detected)")
    ap.add_argument("--screens-dir", default=os.path.join(os.path.dirname(__file__), "screens"))
    ap.add_argument("--password", default="veil-demo")
    args = ap.parse_args()
    term_width = args.width or shutil.get_terminal_size((150, 40)).columns

    # Each login refers to the member by the id it sees: the sales rep by the pseudonym.
    ids = {"match_engine": args.member_id, "sales_li": args.sales_member_id}
    screens = [
        ("1. Profile card", "1_profile_card.sql", True),
        ("2. Who viewed me", "2_who_viewed_me.sql", True),
        ("3. Chat messages", "3_chat_messages.sql", True),
        ("4. Pool listing: 上海, income 8000-11999, height 170-174", "4_pool_listing.sql", False),
    ]
    for title, f, by_member in screens:
        results = []
        for user in ("match_engine", "sales_li"):
            variables = {"rows": args.rows}
            if by_member:
                variables["member_id"] = ids[user]
            results.append((user, run_psql(args.port, args.dbname, user, args.password,
                                           os.path.join(args.screens_dir, f), variables)))
        max_cell = 64 if f.startswith("3_") else args.max_cell
        show_screen(title, results, max_cell, term_width)

    # 5: the sales rep logs a call against the pseudonym; pgveil turns it back into the
    # member's real id before the INSERT reaches the server. The matcher then reads the
    # new row with the real id.
    print("\n┌─ 5. A sales rep opens a member by the pseudonymous id on screen and logs a call")
    rows, err = run_psql(args.port, args.dbname, "sales_li", args.password,
                         os.path.join(args.screens_dir, "5_log_call.sql"),
                         {"member_id": args.sales_member_id})
    if err:
        print(f"│ sales_li: {err}")
        print("└─ the call could not be logged")
        return 1
    # Two results (the card, then the inserted row): the last header starts the second.
    start = max(i for i, r in enumerate(rows) if r and r[0] == "contact_id")
    logged = rows[start:]
    contact_id = logged[1][0] if len(logged) > 1 else "0"
    print_table([["view"] + logged[0]] + [["sales_li"] + r for r in logged[1:]])
    check = os.path.join(os.path.dirname(os.path.abspath(__file__)), "screens",
                         "5_log_call_check.sql")
    stored, err = run_psql(args.port, args.dbname, "match_engine", args.password, check,
                           {"contact_id": contact_id})
    if err or not stored or len(stored) < 2:
        print(f"│ match_engine: {err or 'no row'}")
        return 1
    print_table([["view"] + stored[0]] + [["match_engine"] + r for r in stored[1:]])
    same = stored[1][stored[0].index("member_id")] == args.member_id
    print(f"└─ sales_li wrote member_id {args.sales_member_id}; the row holds "
          f"{stored[1][stored[0].index('member_id')]}"
          f" ({'the member' + chr(39) + 's real id' if same else 'NOT the real id'})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
