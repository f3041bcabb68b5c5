#!/usr/bin/env python3
"""psycopg 3 with binary results against a masked pgveil session (run by drivers_test).

Connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE),
runs $MASKING_SQL five times and appends every row, tab-separated (NULL as \\N), to
$MASKING_OUT/rows.tsv:
  1. a client-side cursor with binary results
  2-4. the same, as a prepared statement (prepare=True) executed three times
  5. a named (server-side) binary cursor: DECLARE ... BINARY, then FETCH in batches
  6. every row again, looked up with `WHERE member_id = ANY(%s)` and a Python list of the
     member ids of run 1 (an array parameter; pseudonyms when masked), in run 1's order
The C++ test compares the rows with the expected masked values.
"""
import os
import sys

import psycopg


def line(row):
    return "\t".join("\\N" if v is None else str(v) for v in row)


def main():
    sql = os.environ["MASKING_SQL"]
    out_path = os.path.join(os.environ["MASKING_OUT"], "rows.tsv")
    runs = []
    with psycopg.connect("") as conn:
        with conn.cursor(binary=True) as cur:
            cur.execute(sql)
            formats = {cur.pgresult.fformat(i) for i in range(cur.pgresult.nfields)}
            if formats != {1}:
                sys.exit(f"expected binary results, got formats {formats}")
            runs.append(cur.fetchall())
            for _ in range(3):
                cur.execute(sql, prepare=True)
                runs.append(cur.fetchall())
        with conn.transaction():
            with conn.cursor("members_cursor", binary=True) as cur:
                cur.itersize = 300
                cur.execute(sql)
                runs.append(list(cur))
        with conn.cursor(binary=True) as cur:
            ids = [row[0] for row in runs[0]]
            cur.execute(sql + " WHERE member_id = ANY(%s)", [ids])
            by_id = {row[0]: row for row in cur.fetchall()}
            runs.append([by_id.get(i, ()) for i in ids])
    with open(out_path, "w", encoding="utf-8") as out:
        for rows in runs:
            for row in rows:
                out.write(line(row) + "\n")


if __name__ == "__main__":
    main()
