#!/usr/bin/env python3
"""asyncpg (binary results, prepared statements, type introspection) against a masked
pgveil session (run by drivers_test).

Connects with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (sslmode disable) and
writes to $MASKING_OUT:
  rows.tsv      $MASKING_SQL's rows, tab-separated (NULL as \\N), six runs:
                  1. conn.fetch
                  2-4. one prepared statement executed three times
                  5. a cursor in a transaction, prefetch 300
                  6. COPY crm.members (the same columns) TO STDOUT, its text as sent
  lookup.tsv    $MASKING_SQL's row for member ids taken from run 1 (row 0, 7, 1999),
                each bound as a parameter of WHERE member_id = $1 (a pseudonym when masked)
  checks.txt    one line per check: "refused <SQLSTATE>" or "allowed" for a statement
                the sales policy refuses, then "usable" when the session still works,
                then "batch written" when member ids inserted into crm.contact_log with
                executemany read back the same (or "batch refused <SQLSTATE>")
  received.txt  everything else the session received (joins with ORDER BY/LIMIT,
                catalog queries with introspected types), for the leak scan
"""
import asyncio
import io
import os

import asyncpg


def line(row):
    return "\t".join("\\N" if v is None else str(v) for v in row)


async def main():
    sql = os.environ["MASKING_SQL"]
    out_dir = os.environ["MASKING_OUT"]
    conn = await asyncpg.connect(host=os.environ["PGHOST"], port=int(os.environ["PGPORT"]),
                                 user=os.environ["PGUSER"], password=os.environ["PGPASSWORD"],
                                 database=os.environ["PGDATABASE"], ssl="disable",
                                 server_settings={"jit": "off"})
    runs, received, checks = [], [], []
    try:
        runs.append(await conn.fetch(sql))
        stmt = await conn.prepare(sql)
        for _ in range(3):
            runs.append(await stmt.fetch())
        async with conn.transaction():
            runs.append([r async for r in conn.cursor(sql, prefetch=300)])
        columns = [a.name for a in stmt.get_attributes()]
        copied = io.BytesIO()
        await conn.copy_from_table("members", schema_name="crm", columns=columns, output=copied)

        # A member id from a result, bound as a parameter.
        lookup = await conn.prepare(sql + " WHERE member_id = $1")
        found = []
        for i in (0, 7, 1999):
            found.extend(await lookup.fetch(runs[0][i]["member_id"]))
        # The same members at once, with an array of their ids (binary int8[]), and
        # everyone else with <> ALL.
        three = [runs[0][i]["member_id"] for i in (0, 7, 1999)]
        try:
            got = await conn.fetch(sql + " WHERE member_id = ANY($1::bigint[])", three)
            others = await conn.fetchval(
                "SELECT count(*) FROM crm.members WHERE member_id <> ALL($1)", three)
            same = sorted(line(r) for r in got) == sorted(line(r) for r in found)
            checks.append("lookup with = ANY($1): " + (
                "ok" if same and others == len(runs[0]) - 3 else "other rows"))
        except asyncpg.PostgresError as e:
            checks.append(f"lookup with = ANY($1): refused {e.sqlstate}")

        # Joins with ORDER BY and LIMIT; pseudonyms joined across tables.
        received.append(await conn.fetch(
            "SELECT m.member_id, m.nickname, m.real_name, m.phone, c.pool, c.status, "
            "s.login, st.city FROM crm.members m "
            "JOIN crm.resource_claims c ON c.member_id = m.member_id "
            "JOIN crm.staff s ON s.staff_id = c.staff_id JOIN crm.stores st USING (store_id) "
            "WHERE c.status = $1 ORDER BY c.claimed_at DESC, s.staff_id LIMIT $2", "open", 40))
        received.append(await conn.fetch(
            "SELECT v.viewer_id, v.viewed_at, m.email, m.birth_date, m.monthly_income "
            "FROM crm.profile_views v JOIN crm.members m ON m.member_id = v.viewed_id "
            "WHERE v.viewer_id = $1 ORDER BY m.city, m.nickname LIMIT 20", runs[0][3]["member_id"]))
        received.append(await conn.fetch(
            "SELECT sender_id, receiver_id, sent_at, body FROM crm.chat_messages "
            "ORDER BY message_id LIMIT 200"))
        # information_schema's domains are not built into asyncpg: it introspects them.
        received.append(await conn.fetch(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'crm' ORDER BY table_name, ordinal_position"))
        received.append(await conn.fetch(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE c.relname = $1 AND a.attnum > 0 ORDER BY a.attnum", "members"))

        try:
            await conn.fetch("SELECT member_id FROM crm.members WHERE phone = $1",
                             str(runs[0][0]["phone"]))
            checks.append("allowed")
        except asyncpg.PostgresError as e:
            checks.append(f"refused {e.sqlstate}")
        try:
            await conn.fetch("SELECT member_id FROM crm.members WHERE phone LIKE '138%'")
            checks.append("allowed")
        except asyncpg.PostgresError as e:
            checks.append(f"refused {e.sqlstate}")
        if await conn.fetchval("SELECT count(*) FROM crm.members") == len(runs[0]):
            checks.append("usable")

        # executemany (Bind/Execute pipelined before one Sync) writing member ids, read back.
        written = [runs[0][i]["member_id"] for i in (1, 2, 3)]
        staff = await conn.fetchval("SELECT min(staff_id) FROM crm.staff")
        try:
            await conn.executemany(
                "INSERT INTO crm.contact_log (staff_id, member_id, channel, outcome, note) "
                "VALUES ($1, $2, 'call', 'asyncpg batch', $3)",
                [(staff, m, f"note {n}") for n, m in enumerate(written)])
            read = await conn.fetch("SELECT member_id FROM crm.contact_log "
                                    "WHERE outcome = 'asyncpg batch' ORDER BY contact_id")
            checks.append("batch written" if [r[0] for r in read] == written
                          else "batch read back differs")
        except asyncpg.PostgresError as e:
            checks.append(f"batch refused {e.sqlstate}")
    finally:
        await conn.close()

    with open(os.path.join(out_dir, "rows.tsv"), "w", encoding="utf-8") as out:
        for rows in runs:
            for row in rows:
                out.write(line(row) + "\n")
        out.write(copied.getvalue().decode("utf-8"))
    with open(os.path.join(out_dir, "lookup.tsv"), "w", encoding="utf-8") as out:
        for row in found:
            out.write(line(row) + "\n")
    with open(os.path.join(out_dir, "checks.txt"), "w", encoding="utf-8") as out:
        out.write("\n".join(checks) + "\n")
    with open(os.path.join(out_dir, "received.txt"), "w", encoding="utf-8") as out:
        for rows in received:
            for row in rows:
                out.write(line(row) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
