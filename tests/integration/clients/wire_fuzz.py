"""A randomized differential test of the v3 frontend protocol: random but meaningful
sequences of frontend messages, played byte for byte on a fresh connection to PostgreSQL
and on one through pgveil, and the backend message streams compared.

    wire_fuzz.py [--masked] [--seed N] [--seconds S | --count N] [--corpus-only] [--self]
                 [--replay STEPS [--split whole|each|split]]

(PGVEIL_FUZZ_SEED and PGVEIL_FUZZ_SECONDS set the defaults of --seed and --seconds, for
ctest: `PGVEIL_FUZZ_SEED=7 PGVEIL_FUZZ_SECONDS=600 ctest -R wire_fuzz`.)

Run it under with_stack.sh (unmasked: login it_trust, every message must be the same
apart from what normalise() takes out) or, with --masked, under with_demo_stack.sh (login
sales_li of the demo CRM; see masked_key() for what is compared there). The fixed corpus
(CORPUS below: minimised reproductions of differences found earlier) is played first.
A difference prints the seed, the sequence, the first differing message, and a minimised
reproduction (delta debugging) that can be pasted into CORPUS. Exit status 1 on any.

--self plays both sides directly against PostgreSQL: a check of the tester itself
(a sequence whose replies depend on timing or on the connection shows up there).

The message helpers (framing, the raw connection, login, normalisation) are those of
wire_edge_probe.py.
"""
import argparse
import os
import random
import re
import socket
import struct
import sys
import time

import wire_edge_probe as w

# ---------------------------------------------------------------------------------------
# Steps. A sequence is a list of steps, each a tuple that names one frontend message (or
# "wait": send what is before it and read the replies):
#   ("Q", sql)  ("P", name, sql, [type oids])  ("B", portal, stmt, [values], [param fmts],
#   [result fmts])  ("D", "S"|"P", name)  ("E", portal, max_rows)  ("C", "S"|"P", name)
#   ("S",) ("H",) ("d", bytes) ("c",) ("f", msg) ("F", oid, [args], [arg fmts], result fmt)
#   ("X",) ("wait",)
# In masked mode a step whose first element ends in "!" ("Q!", "P!") is one the guard
# refuses: PostgreSQL, the reference, gets the failing stand-in pgveil sends in its place
# (docs/guard.md), and a FunctionCall is refused the same way.
FAILING_SQL = "pgveil refused this statement"  # what pgveil sends for a refused statement
COPY_FROM_STDIN = re.compile(r"\bCOPY\b[^;]*\bFROM\s+STDIN", re.I)


def encode(step, reference=False):
    """The bytes of one step; `reference`: the bytes PostgreSQL gets in the reference run
    of a masked sequence."""
    kind, args = step[0], step[1:]
    if kind.endswith("!"):
        kind = kind[:-1]
        if reference:
            if kind == "Q":
                return w.Q(FAILING_SQL)
            if kind == "P":
                return w.P(args[0], FAILING_SQL)
    if kind == "Q":
        return w.Q(args[0])
    if kind == "P":
        return w.P(*args)
    if kind == "B":
        return w.B(*args)
    if kind == "D":
        return w.D(*args)
    if kind == "E":
        return w.E(*args)
    if kind == "C":
        return w.C(*args)
    if kind == "S":
        return w.S
    if kind == "H":
        return w.H
    if kind == "d":
        return w.copy_data(args[0])
    if kind == "c":
        return w.COPY_DONE
    if kind == "f":
        return w.copy_fail(args[0])
    if kind == "F":
        if reference and MASKED:
            return w.Q(FAILING_SQL)  # the function call message is refused as a statement
        return w.F(*args)
    if kind == "X":
        return w.X
    raise ValueError(step)


def show(step):
    s = repr(step)
    return s if len(s) < 110 else s[:100] + "...)"


# ---------------------------------------------------------------------------------------
# The generator
MASKED = False
SETUP_UNMASKED = ("Q", "CREATE TEMP TABLE fz (id int, v text); "
                  "INSERT INTO fz SELECT g, 'v' || g FROM generate_series(1, 5) g")

# (sql, parameter types or None when the statement takes no parameters, kind)
# kind: "rows", "none", "error", "copyin", "copyout", "txn", "multi"
UNMASKED_SQL = [
    ("SELECT 1 AS one", None, "rows"),
    ("SELECT g, 'r' || g AS t FROM generate_series(1, 7) g", None, "rows"),
    ("SELECT id, v FROM fz ORDER BY id", None, "rows"),
    ("SELECT $1::int4 + 1 AS n", [23], "rows"),
    ("SELECT $1::int4 + 1 AS n", [], "rows"),
    ("SELECT $1::text AS a, $2::int8 AS b", [25, 20], "rows"),
    ("SELECT $1 AS untyped", [], "rows"),
    ("SELECT repeat('x', 70000) AS big", None, "rows"),
    ("SELECT 1/0", None, "error"),
    ("SELECT nope", None, "error"),
    ("SELEC 1", None, "error"),
    ("SELECT g, 1/(g - 3) FROM generate_series(1, 5) g", None, "error"),
    ("", None, "none"),
    ("INSERT INTO fz VALUES ($1::int, $2)", [23, 25], "none"),
    ("INSERT INTO fz VALUES (9, 'nine') RETURNING id, v", None, "rows"),
    ("UPDATE fz SET v = v || '+' WHERE id < 3", None, "none"),
    ("DELETE FROM fz WHERE id = 42", None, "none"),
    ("BEGIN", None, "txn"),
    ("COMMIT", None, "txn"),
    ("ROLLBACK", None, "txn"),
    ("SAVEPOINT sp", None, "txn"),
    ("ROLLBACK TO sp", None, "txn"),
    ("SET application_name = 'fuzz'", None, "none"),
    ("SET DateStyle = 'SQL, DMY'", None, "none"),
    ("RESET ALL", None, "none"),
    ("SHOW DateStyle", None, "rows"),
    ("SET LOCAL work_mem = '8MB'", None, "none"),
    ("LISTEN fzc", None, "none"),
    ("NOTIFY fzc, 'hello'", None, "none"),
    ("SELECT pg_notify('fzc', 'p' || 1)", None, "rows"),
    ("UNLISTEN *", None, "none"),
    ("DECLARE cur CURSOR FOR SELECT g FROM generate_series(1, 6) g", None, "none"),
    ("DECLARE hcur CURSOR WITH HOLD FOR SELECT id FROM fz", None, "none"),
    ("FETCH 2 FROM cur", None, "rows"),
    ("FETCH ALL FROM hcur", None, "rows"),
    ("MOVE 1 IN cur", None, "none"),
    ("CLOSE cur", None, "none"),
    ("CLOSE ALL", None, "none"),
    ("PREPARE sq(int) AS SELECT $1 + 1 AS n", None, "none"),
    ("EXECUTE sq(41)", None, "rows"),
    ("DEALLOCATE sq", None, "none"),
    ("DEALLOCATE ALL", None, "none"),
    ("DISCARD ALL", None, "none"),
    ("COPY fz TO STDOUT", None, "copyout"),
    ("COPY (SELECT id, v FROM fz ORDER BY id LIMIT 3) TO STDOUT (FORMAT binary)", None, "copyout"),
    ("COPY fz FROM STDIN", None, "copyin"),
    ("COPY fz (id) FROM STDIN (FORMAT csv)", None, "copyin"),
    ("DO $$ BEGIN RAISE NOTICE 'note %', 1; RAISE WARNING 'careful'; END $$", None, "none"),
    ("SELECT pg_sleep(0.02)", None, "rows"),
    ("SET client_min_messages = 'debug1'", None, "none"),
]
UNMASKED_MULTI = [
    "SELECT 1; SELECT 2",
    "SELECT 1; SELECT 1/0; SELECT 3",
    "BEGIN; SELECT 1; COMMIT",
    "BEGIN; SELECT nope; COMMIT",
    "SELECT 1; COPY fz FROM STDIN; SELECT 2",
    "COPY fz TO STDOUT; SELECT 'after'",
    ";;",
    "LISTEN fzc; NOTIFY fzc, 'multi'; SELECT 1",
    "SELECT 1; BEGIN; SELECT 2",
    "COMMIT; COMMIT",
]
MASKED_SQL = [
    ("SELECT member_id, city, phone FROM crm.members LIMIT 3", None, "rows"),
    ("SELECT nickname, email, birth_date, monthly_income FROM crm.members LIMIT 4", None, "rows"),
    ("SELECT member_id, wechat_id, about_me FROM crm.members LIMIT 2", None, "rows"),
    ("SELECT store_id, city FROM crm.stores ORDER BY store_id LIMIT 3", None, "rows"),
    ("SELECT city FROM crm.stores WHERE store_id > $1 ORDER BY store_id LIMIT 2", [23], "rows"),
    ("SELECT count(*) FROM crm.members", None, "rows"),
    ("SELECT 1 AS one", None, "rows"),
    ("SELECT $1::int4 + 1 AS n", [23], "rows"),
    ("SELECT $1::text AS a", [], "rows"),
    ("SELECT 1/0", None, "error"),
    ("SELECT nope", None, "error"),
    ("SELECT member_id FROM crm.members WHERE member_id / 0 = 1", None, "refused"),
    ("SELECT length(phone) FROM crm.members", None, "refused"),
    ("", None, "none"),
    ("BEGIN", None, "txn"),
    ("COMMIT", None, "txn"),
    ("ROLLBACK", None, "txn"),
    ("SAVEPOINT sp", None, "txn"),
    ("ROLLBACK TO sp", None, "txn"),
    ("SET application_name = 'fuzz'", None, "none"),
    ("SHOW application_name", None, "rows"),
    ("SET search_path = public, pg_catalog", None, "refused"),
    ("CREATE TABLE fz (a int)", None, "refused"),
    ("LISTEN mch", None, "none"),
    ("NOTIFY mch, 'hello'", None, "none"),
    ("UNLISTEN *", None, "none"),
    ("DECLARE mc CURSOR FOR SELECT member_id, phone FROM crm.members LIMIT 5", None, "none"),
    ("FETCH 2 FROM mc", None, "rows"),
    ("CLOSE mc", None, "none"),
    ("PREPARE mp AS SELECT member_id, phone FROM crm.members LIMIT 2", None, "none"),
    ("EXECUTE mp", None, "rows"),
    ("DEALLOCATE mp", None, "none"),
    ("COPY crm.members (member_id, city) TO STDOUT", None, "copyout"),
    ("COPY (SELECT store_id, city FROM crm.stores LIMIT 3) TO STDOUT (FORMAT binary)", None,
     "copyout"),
    ("COPY crm.contact_log (staff_id, channel) FROM STDIN", None, "copyin"),
]
MASKED_MULTI = [
    "SELECT 1; SELECT store_id FROM crm.stores LIMIT 2",
    "SELECT 1; SELECT 1/0; SELECT 3",
    "BEGIN; SELECT member_id FROM crm.members LIMIT 2; COMMIT",
    "BEGIN; SELECT nope; COMMIT",
    "SELECT 1; COPY crm.contact_log (staff_id, channel) FROM STDIN; SELECT 2",
    "COPY crm.stores TO STDOUT; SELECT 'after'",
    "LISTEN mch; NOTIFY mch, 'multi'; SELECT 1",
    "COMMIT; COMMIT",
]
# Parameters that take a statement's meaning seriously (COPY FROM rows must mostly be
# rows that fail: a masked reference run and pgveil's run must not see each other's rows).
COPY_ROWS_UNMASKED = [b"1\tone\n", b"2\ttwo\n3\tthree\n", b"garbage\n", b"4\t", b"x\n", b"\\.\n"]
COPY_ROWS_MASKED = [b"1\t999999999\tcall\n", b"not a row\n", b"1\t", b"999999999\tcall\n"]


class Generator:
    """Random sequences. A light model of the session (named statements and portals,
    open copies) makes most messages meaningful; the rest are on purpose not."""

    def __init__(self, rng, masked):
        self.r = rng
        self.masked = masked
        self.sql = MASKED_SQL if masked else UNMASKED_SQL
        self.multi = MASKED_MULTI if masked else UNMASKED_MULTI
        self.rows = COPY_ROWS_MASKED if masked else COPY_ROWS_UNMASKED

    def pick_sql(self):
        r = self.r
        if r.random() < 0.12:
            return r.choice(self.multi), None, "multi"
        return r.choice(self.sql)

    def value(self):
        r = self.r
        return r.choice(["1", "41", "x", "", None, struct.pack("!i", 7), b"\0\0", "2147483648"])

    def sequence(self, length):
        r = self.r
        stmts = {}   # name -> number of params (None: unknown)
        portals = set()
        copy_in = False
        copy_rows = 0
        # statement name -> a Sync or Flush was sent after its Close or Parse
        closing = {}
        # The unnamed statement's last Parse is unanswered and a Sync follows it: pgveil
        # refuses a Bind of it now (0A000, docs/protocol.md), since the server may have
        # skipped that Parse and kept the previous unnamed statement.
        unnamed_parse = False
        unnamed_uncertain = False
        out = []
        for _ in range(length):
            if copy_in and r.random() < 0.8:
                x = r.random()
                if x < 0.55:
                    out.append(("d", r.choice(self.rows)))
                    copy_rows += 1
                elif x < 0.75:
                    out.append(("c",))
                    copy_in = False
                elif x < 0.85:
                    out.append(("f", "given up"))
                    copy_in = False
                elif x < 0.93:
                    # The server ignores a Sync while it is in COPY, but not once a bad
                    # row has ended the COPY: pgveil cannot tell which row the server
                    # failed on, so masked sessions get a Sync only before any row.
                    if self.masked and copy_rows:
                        out.append(("H",))
                    else:
                        out.append((r.choice("SH"),))
                else:
                    out.append(("Q", "SELECT 'during copy'"))  # a protocol violation
                    copy_in = False
                continue
            x = r.random()
            if x < 0.22:
                sql, _, kind = self.pick_sql()
                if kind == "refused":
                    out.append(("Q!", sql))
                else:
                    out.append(("Q", sql))
                copy_in = kind == "copyin" or "FROM STDIN" in sql
                copy_rows = 0
            elif x < 0.40:
                sql, types, kind = self.pick_sql()
                name = r.choice(["", "", "s1", "s2"])
                if types is None:
                    types = []
                elif r.random() < 0.2:
                    types = r.choice([[], [23], [25, 25], [0]])
                # pgveil decides on the name of a Parse when it is sent: a name whose
                # Parse or Close the server has not answered yet is refused (42P05,
                # 55000; docs/guard.md) even if the server then skips that message, and
                # an existing name is refused before the server would have found an
                # error in the statement itself.
                if self.masked and (name in closing or name in stmts):
                    name = ""
                refused = self.masked and (kind == "refused" or sql.startswith("EXECUTE"))
                if refused:
                    out.append(("P!", name, sql, types))  # EXECUTE: as a simple query only
                else:
                    out.append(("P", name, sql, types))
                if name:
                    closing[name] = False
                else:
                    unnamed_parse, unnamed_uncertain = True, False
                stmts[name] = len(types) if "$" in sql else 0
                if r.random() < 0.5:
                    out += self.bind_execute(name, stmts, portals)
            elif x < 0.52:
                extra = ["", "nope"] if self.masked else ["", "nope", "sq"]
                stmt = r.choice(list(stmts) + extra)
                if not (self.masked and stmt == "" and unnamed_uncertain):
                    out += self.bind_execute(stmt, stmts, portals)
            elif x < 0.58:
                kind = r.choice("SSPPX") if r.random() < 0.95 else "X"
                pool = list(stmts) if kind == "S" else list(portals)
                out.append(("D", kind, r.choice(pool + ["", "nope"])))
            elif x < 0.64:
                portal = r.choice(list(portals) + ["", "nope"])
                out.append(("E", portal, r.choice([0, 0, 1, 2, 3, 100])))
            elif x < 0.69:
                kind = r.choice("SP")
                pool = list(stmts) if kind == "S" else list(portals)
                name = r.choice(pool + ["", "nope"])
                out.append(("C", kind, name))
                if kind == "S":
                    # pgveil refuses to reuse the name before the server has confirmed
                    # the Close (55000, docs/guard.md): not until a Sync or Flush has
                    # been answered.
                    closing[name] = False
            elif x < 0.82:
                out.append(("S",))
                portals.discard("")
                closing = {k: True for k in closing}
                unnamed_uncertain = unnamed_parse
                if r.random() < 0.4:
                    out.append(("wait",))
                    closing = {}
                    unnamed_parse = unnamed_uncertain = False
            elif x < 0.86:
                out.append(("H",))
                closing = {k: True for k in closing}
                if r.random() < 0.5:
                    out.append(("wait",))
                    closing = {}
                    unnamed_parse = unnamed_uncertain = False
            elif x < 0.89:
                out.append(("F", r.choice([177, 177, 1]),
                            r.choice([[b"20", b"22"], [struct.pack("!i", 1), struct.pack("!i", 2)],
                                      [None, b"1"], [b"1"]]),
                            r.choice([[0], [1], [], [0, 0]]), r.choice([0, 1])))
            elif x < 0.92:
                out.append(("wait",))
                closing = {k: v for k, v in closing.items() if not v}
                if not unnamed_uncertain:
                    unnamed_parse = False
            else:
                # Copy messages outside a copy (the server ignores them) or a stray one.
                out.append(r.choice([("d", r.choice(self.rows)), ("c",), ("f", "stray")]))
        if copy_in:
            out.append(("c",))
        if r.random() < 0.9:
            out.append(("S",))
        out.append(("X",))
        return out

    def bind_execute(self, stmt, stmts, portals):
        r = self.r
        nparams = stmts.get(stmt)
        if nparams is None or r.random() < 0.15:
            nparams = r.choice([0, 1, 2])
        params = [self.value() if r.random() < 0.3 else r.choice(["1", "2", "7"])
                  for _ in range(nparams)]
        pf = r.choice([[], [], [0], [1], [0] * nparams, [1] * nparams, [0, 1]])
        if 1 in pf:  # binary int4 values where binary is asked for, mostly
            params = [struct.pack("!i", 3) if r.random() < 0.8 else p for p in params]
        rf = r.choice([[], [], [0], [1], [0, 1], [1, 0, 1], [2]])
        portal = r.choice(["", "", "p1", "p2"])
        out = [("B", portal, stmt, params, pf, rf)]
        portals.add(portal)
        if r.random() < 0.3:
            out.append(("D", "P", portal))
        if r.random() < 0.85:
            out.append(("E", portal, r.choice([0, 0, 0, 1, 2])))
            if r.random() < 0.3:
                out.append(("E", portal, r.choice([0, 1])))
        return out


# ---------------------------------------------------------------------------------------
# Playing a sequence
DB = None
USER = None
PG_PORT, PROXY_PORT = w.PG_PORT, w.PROXY_PORT
IDLE = 0.15        # direct: a wait ends after this long without a message
FINAL_IDLE = 1.0   # direct: the end of a sequence without a close
STALL = 3.0        # pgveil: how long it may take to catch up with what PostgreSQL sent
CLOSE_GRACE = 2.5  # pgveil: how long it may take to close after the server did


class Run:
    def __init__(self):
        self.msgs = []        # (type, body) after login
        self.marks = []       # at each wait: (messages, ReadyForQuery count) so far
        self.stalls = []      # waits at which pgveil fell short of PostgreSQL's replies
        self.end = None       # "<closed>" or "<open>"


def chunks(data, split, rng):
    """The sends for `data`: all at once, one per message, or cut at random bytes."""
    if split == "whole" or len(data) < 2:
        return [data]
    if split == "each":
        out, pos = [], 0
        while pos < len(data):
            (n,) = struct.unpack("!I", data[pos + 1:pos + 5])
            out.append(data[pos:pos + 1 + n])
            pos += 1 + n
        return out
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 6))))
    return [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]


def syncs_in_copy_data(seq):
    """The indexes of the Syncs that pgveil does not pass on to the server in a masked
    session (docs/protocol.md): those between the CopyData of a COPY FROM STDIN, as pgveil
    sees the client's side (the COPY statements of the last Query or Execute, the run of
    copy messages now open). The reference run leaves them out too."""
    statements, portals, out = {}, {}, set()
    copy_ins = 0
    run_open = run_of_copy = False
    for i, step in enumerate(seq):
        kind = step[0]
        if kind == "P":
            statements[step[1]] = step[2]
        elif kind == "B":
            portals[step[1]] = statements.get(step[2], "")
        elif kind in ("Q", "Q!"):
            copy_ins = 1 if kind == "Q" and COPY_FROM_STDIN.search(step[1]) else 0
            run_open = False
        elif kind == "E":
            copy_ins = 1 if COPY_FROM_STDIN.search(portals.get(step[1], "")) else 0
            run_open = False
        elif kind in ("d", "c", "f"):
            if not run_open:
                run_open, run_of_copy = True, copy_ins > 0
                copy_ins = max(copy_ins - 1, 0)
            if kind != "d":
                run_open = False
        elif kind == "S" and run_open and run_of_copy:
            out.add(i)
    return out


def play(port, seq, split, reference, direct_marks=None, direct_end=None):
    """Plays one sequence on a new connection. `direct_marks`: PostgreSQL's counts at the
    waits (for pgveil's run: read until it has as much, or note a stall); `direct_end`:
    whether PostgreSQL closed the connection at the end."""
    c, _ = w.login(port, USER, db=DB)
    run = Run()
    rng = random.Random(repr(seq) + split)  # the same cuts for both runs
    requests = 0  # Query, Sync and FunctionCall messages sent: replies to wait for
    zs = 0
    dead = False

    def read_one(timeout):
        nonlocal zs
        m = c.read_msg(timeout)
        run.msgs.append(m)
        if m[0] == "Z":
            zs += 1
        return m

    def send(data):
        nonlocal dead
        if dead or not data:
            return
        for piece in chunks(data, split, rng):
            try:
                c.send(piece)
            except OSError:
                dead = True
                return
            if split not in ("whole",) and rng.random() < 0.3:
                time.sleep(0.002)

    dropped_syncs = syncs_in_copy_data(seq) if reference and MASKED else set()
    pending = b""
    try:
        for step_index, step in enumerate(seq):
            if step[0] == "wait":
                send(pending)
                pending = b""
                k = len(run.marks)
                try:
                    if direct_marks is None:
                        # Until every request so far is answered; after a Flush, until
                        # the server falls silent.
                        if zs < requests:
                            while zs < requests:
                                read_one(IDLE)
                        else:
                            while True:
                                read_one(IDLE)
                    else:
                        want_n, want_z = direct_marks[k] if k < len(direct_marks) else (0, 0)
                        deadline = time.monotonic() + STALL
                        while len(run.msgs) < want_n or zs < want_z:
                            read_one(max(deadline - time.monotonic(), 0.001))
                except TimeoutError:
                    if direct_marks is not None:
                        run.stalls.append((k, len(run.msgs), zs))
                run.marks.append((len(run.msgs), zs))
                continue
            if reference and MASKED and step_index in dropped_syncs:
                continue
            data = encode(step, reference)
            if data[:1] in (b"Q", b"S", b"F"):
                requests += 1
            pending += data
        send(pending)
        want_n = None if direct_marks is None else direct_marks[-1][0]
        deadline = time.monotonic() + 30
        while True:
            idle = FINAL_IDLE
            if want_n is not None and len(run.msgs) >= want_n:
                # pgveil notices a server's end of stream that came with its last bytes
                # within a second (docs/protocol.md, "A session").
                idle = CLOSE_GRACE if direct_end == "<closed>" else 0.3
            read_one(max(min(idle, deadline - time.monotonic()), 0.001))
    except w.Closed:
        if c.buf:
            run.msgs.append(("<partial>", bytes(c.buf)))
        run.end = "<closed>"
    except TimeoutError:
        run.end = "<open>"
    finally:
        c.close()
    run.marks.append((len(run.msgs), zs))
    return run


# ---------------------------------------------------------------------------------------
# What is compared
TEMP_SCHEMA = re.compile(rb"pg_temp_\d+")


def normalise(msgs):
    """Unmasked: every message, apart from BackendKeyData, the sender pid of
    notifications, the table OIDs of RowDescriptions (temporary tables) and the names of
    temporary schemas (they follow the backend)."""
    return [(t, TEMP_SCHEMA.sub(b"pg_temp_N", b)) for t, b in w.norm(msgs, table_oids=True)]


def row_description_key(body):
    """Names, table columns and formats; the types may change with the transform."""
    (n,) = struct.unpack("!h", body[:2])
    out, pos = [], 2
    for _ in range(n):
        end = body.index(b"\0", pos)
        name = body[pos:end]
        table, att, _typ, _len, _mod, fmt = struct.unpack("!IhIhih", body[end + 1:end + 19])
        out.append((name, att, fmt))
        pos = end + 19
    return tuple(out)


def masked_key(msg, reference):
    """Masked: values differ by design. Compared: the type and order of every message,
    SQLSTATE and severity of errors and notices (pgveil's refusals against PostgreSQL's
    error for the stand-in), command tags, transaction status, field names and formats,
    the number of fields of each row, the other messages whole (apart from CopyData and
    notification payloads)."""
    t, b = msg
    if t in "EN":
        f = w.fields(b)
        state = f.get("C")
        if reference and f.get("M") == 'syntax error at or near "pgveil"':
            state = "refused"
        if (not reference and t == "E" and "R" not in f and f.get("S") == "ERROR" and
                state in ("42501", "0A000")):
            state = "refused"  # pgveil's own refusal: PostgreSQL always names its routine
        return (t, f.get("S"), state)
    if t == "T":
        return (t, row_description_key(b))
    if t == "D":
        return (t, struct.unpack("!h", b[:2])[0])
    if t == "d":
        return (t,)
    if t == "A":
        (_, rest) = b[:4], b[4:]
        return (t, rest.split(b"\0")[0])
    if t == "K":
        return (t, len(b))
    return (t, b)


def compare(direct, proxied, terminated=False):
    """None, or (index, direct message, proxied message) of the first difference.
    `terminated`: the sequence ends with Terminate."""
    if MASKED:
        # pgveil passes whole messages only to a masked session: the part of one that
        # PostgreSQL had sent when it closed the connection (a Terminate after an Execute
        # without Sync leaves its last output unflushed) does not reach the client.
        msgs = direct.msgs
        if msgs and msgs[-1][0] == "<partial>":
            msgs = msgs[:-1]
        d = [masked_key(m, True) for m in msgs]
        p = [masked_key(m, SELF_CHECK) for m in proxied.msgs]
    else:
        d, p = normalise(direct.msgs), normalise(proxied.msgs)
    d, p = d + [(direct.end, b"")], p + [(proxied.end, b"")]
    for i, (a, b) in enumerate(zip(d, p)):
        if a != b:
            if (MASKED and terminated and b[0] == "<closed>" and d[-1][0] == "<closed>" and
                    all(m[0] in ("d", "D") for m in d[i:-1])):
                # At a Terminate PostgreSQL drops the output it has not flushed. pgveil's
                # Describe before an Execute the client did not describe adds to that
                # output, so a few rows fewer may have reached pgveil when it closed.
                return None
            return i, a, b
    if len(d) != len(p):
        i = min(len(d), len(p))
        return i, d[i] if i < len(d) else None, p[i] if i < len(p) else None
    if proxied.stalls:
        k, n, z = proxied.stalls[0]
        return ("stall", f"at wait {k} pgveil had sent {n} messages ({z} ReadyForQuery), "
                f"PostgreSQL {direct.marks[k]}", None)
    return None


def check(seq, split):
    direct = play(PG_PORT, seq, split, reference=True)
    proxied = play(SIDE_B_PORT, seq, split, reference=SELF_CHECK, direct_marks=direct.marks,
                   direct_end=direct.end)
    terminated = bool(seq) and seq[-1][0] == "X"
    return compare(direct, proxied, terminated), direct, proxied


def fails(seq, split, tries=1):
    for _ in range(tries):
        diff, _, _ = check(seq, split)
        if diff is None:
            return False
    return True


def minimise(seq, split):
    """ddmin over the steps (the closing Terminate stays)."""
    body, tail = seq[:-1], seq[-1:]
    n = 2
    while len(body) >= 2:
        size = max(len(body) // n, 1)
        reduced = False
        for start in range(0, len(body), size):
            candidate = body[:start] + body[start + size:]
            if fails(candidate + tail, split):
                body = candidate
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if n >= len(body):
                break
            n = min(n * 2, len(body))
    return body + tail


def fmt_msg(m):
    if m is None:
        return "(nothing)"
    if MASKED:
        return repr(m)
    return w.describe([m])


def report(name, seq, split, diff, direct, proxied):
    print(f"\n=== DIFFERENCE {name} (split={split!r}, {'masked' if MASKED else 'unmasked'})")
    for s in seq:
        print("   ", show(s))
    i, a, b = diff
    if i is None:
        print("  no difference")
    else:
        print(f"  first difference at reply {i}:\n    PostgreSQL: {fmt_msg(a)}\n"
              f"    pgveil:     {fmt_msg(b)}")
    print("  PostgreSQL:", w.describe(direct.msgs, 60), direct.end)
    print("  pgveil:    ", w.describe(proxied.msgs, 60), proxied.end)
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------
# The fixed corpus: minimised reproductions of differences found by this tester, each
# with the split it was found with. (mode, name, split, steps)
CORPUS = [
    # A Bind with more parameter formats than parameters gets the server's 08P01, also
    # while pgveil cannot yet tell which unnamed statement it would run.
    ("masked", "bind with a format count that does not match", "split",
     [("P", "", "LISTEN mch", []),
      ("P", "", "SELECT member_id, city, phone FROM crm.members LIMIT 3", []), ("S",),
      ("B", "", "", [], [0, 1], []), ("X",)]),
    # A Describe or Close of an unknown kind: an ERROR (08P01), and the session goes on.
    ("masked", "describe of kind X", "each",
     [("D", "X", "p1"), ("S",), ("Q", "SELECT 1 AS one"), ("X",)]),
    ("masked", "close of kind X", "whole",
     [("C", "X", ""), ("H",), ("wait",), ("S",), ("Q", "SELECT 1 AS one"), ("X",)]),
    # After an extended-protocol error the server skips simple queries up to Sync.
    ("masked", "query skipped after an error", "whole",
     [("E", "", 0), ("Q", "SELECT member_id, city, phone FROM crm.members LIMIT 3"), ("S",),
      ("Q", "SELECT member_id, wechat_id, about_me FROM crm.members LIMIT 2"), ("X",)]),
    ("masked", "query skipped, then an injected Describe", "whole",
     [("D", "S", ""), ("Q", "SELECT city FROM crm.stores WHERE store_id > $1 ORDER BY store_id "
                        "LIMIT 2"), ("S",), ("P", "", "SET application_name = 'fuzz'", []),
      ("B", "", "", [], [], [1, 0, 1]), ("E", "", 1), ("S",), ("X",)]),
    # ... also when the error arrived before the client sent them.
    ("masked", "query sent after the error arrived", "whole",
     [("E", "", 0), ("H",), ("wait",), ("Q", "SHOW application_name"), ("S",), ("wait",),
      ("Q", "COPY (SELECT store_id, city FROM crm.stores LIMIT 3) TO STDOUT (FORMAT binary)"),
      ("X",)]),
    # ... and function calls and refused queries, whose stand-ins the server skips too.
    ("masked", "refused query and function call skipped", "whole",
     [("E", "", 0), ("Q!", "SET search_path = public, pg_catalog"), ("S",), ("F", 177, [b"1"], [1], 0),
      ("X",)]),
    # A Sync between the CopyData of a COPY FROM STDIN is not passed on: PostgreSQL answers
    # it only if the COPY had already failed, so the queries after it would be paired
    # with the wrong answers (and masked with the wrong statement's lineage).
    ("masked", "sync between copy data of a failing copy", "split",
     [("Q", "COPY crm.contact_log (staff_id, channel) FROM STDIN"), ("d", b"not a row\n"),
      ("S",), ("P!", "s1", "SELECT length(phone) FROM crm.members", []), ("X",)]),
    ("masked", "sync between copy data, copy in a multi-statement query", "split",
     [("Q", "SELECT 1; COPY crm.contact_log (staff_id, channel) FROM STDIN; SELECT 2"),
      ("d", b"999999999\tcall\n"), ("S",), ("X",)]),
    # ... and a Sync between the runs of data of two COPYs in one query is read by the
    # second COPY, unless the first one failed.
    ("masked", "sync between two copies of one query", "whole",
     [("Q", "COPY crm.contact_log (staff_id, channel) FROM STDIN; "
            "COPY crm.contact_log (staff_id, channel) FROM STDIN"),
      ("c",), ("S",), ("c",), ("Q", "SELECT city FROM crm.stores LIMIT 1"), ("X",)]),
    # PostgreSQL leaves its last output unflushed at a Terminate after an Execute without
    # Sync: the part of a message it had sent is not passed on to a masked session.
    ("masked", "terminate after an execute without sync", "whole",
     [("P", "", "COPY crm.members (member_id, city) TO STDOUT", []), ("B", "", "", [], [], []),
      ("E", "", 0), ("X",)]),
    # ... and pgveil's Describe before an undescribed Execute adds to that output: a few
    # rows fewer may reach pgveil before the server closes.
    ("masked", "terminate after an execute without sync, after other replies", "whole",
     [("P", "s1", "COPY crm.contact_log (staff_id, channel) FROM STDIN", []),
      ("P", "s2", "BEGIN", []), ("C", "S", "nope"),
      ("P", "", "COPY crm.members (member_id, city) TO STDOUT", []), ("B", "", "", [], [], []),
      ("E", "", 0), ("X",)]),
    ("masked", "sync between copy data, extended protocol", "whole",
     [("P", "", "COPY crm.contact_log (staff_id, channel) FROM STDIN", []),
      ("B", "", "", [], [], []), ("E", "", 0), ("S",), ("d", b"not a row\n"), ("S",),
      ("c",), ("S",), ("Q", "SELECT birth_date::text AS x FROM crm.members LIMIT 2"),
      ("Q", "SELECT store_id::text AS x FROM crm.stores LIMIT 1"), ("X",)]),
    # A refused named Parse leaves the unnamed statement, as a named Parse that fails does.
    ("masked", "refused named parse", "whole",
     [("P", "", "SELECT 1 AS one", []), ("S",), ("wait",),
      ("P!", "s1", "SELECT length(phone) FROM crm.members", []), ("S",), ("wait",),
      ("B", "", "", [], [], []), ("E", "", 0), ("S",), ("X",)]),
]


def main():
    global MASKED, DB, USER, SIDE_B_PORT, SELF_CHECK
    ap = argparse.ArgumentParser()
    ap.add_argument("--masked", action="store_true")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("PGVEIL_FUZZ_SEED", 1)))
    ap.add_argument("--seconds", type=float,
                    default=float(os.environ.get("PGVEIL_FUZZ_SECONDS", 60)))
    ap.add_argument("--count", type=int, default=0, help="sequences (overrides --seconds)")
    ap.add_argument("--length", type=int, default=14, help="mean sequence length")
    ap.add_argument("--corpus-only", action="store_true")
    ap.add_argument("--self", action="store_true", help="both sides straight to PostgreSQL")
    ap.add_argument("--no-minimise", action="store_true")
    ap.add_argument("--max-failures", type=int, default=3)
    ap.add_argument("--replay", help="a sequence (a Python list of steps) to play and show")
    ap.add_argument("--split", default="whole", help="--replay: whole, each or split")
    args = ap.parse_args()
    MASKED = args.masked
    SELF_CHECK = args.self or w.DIRECT_MODE
    SIDE_B_PORT = PG_PORT if SELF_CHECK else PROXY_PORT
    if MASKED:
        DB, USER = os.environ["IT_DATABASE"], os.environ["IT_MASKED_USER"]
        w.PASSWORDS[USER] = os.environ["IT_PASSWORD"]
    else:
        DB, USER = w.DB, w.USER
    mode = "masked" if MASKED else "unmasked"
    if args.replay:
        import ast
        seq = ([] if MASKED else [SETUP_UNMASKED, ("wait",)]) + ast.literal_eval(args.replay)
        diff, d, p = check(seq, args.split)
        report("replay", seq, args.split, diff or (None, None, None), d, p)
        sys.exit(1 if diff else 0)
    failures = 0
    played = 0
    for cmode, name, split, steps in CORPUS:
        if cmode != mode:
            continue
        seq = ([] if MASKED else [SETUP_UNMASKED, ("wait",)]) + steps
        diff, d, p = check(seq, split)
        played += 1
        if diff:
            failures += 1
            report(f"corpus {name}", seq, split, diff, d, p)
    print(f"corpus: {played} sequences, {failures} differences")
    if args.corpus_only:
        sys.exit(1 if failures else 0)
    started = time.monotonic()
    n = 0
    while True:
        if args.count and n >= args.count:
            break
        if not args.count and time.monotonic() - started > args.seconds:
            break
        seed = args.seed * 1_000_003 + n
        n += 1
        rng = random.Random(seed)
        gen = Generator(rng, MASKED)
        steps = gen.sequence(max(1, int(rng.expovariate(1 / args.length))))
        if MASKED:
            # Whether PostgreSQL answers such a Sync depends on whether an error made it
            # skip the COPY, which pgveil may not know yet when the Sync arrives: the
            # corpus and client_wire_edge_masked_test hold the cases without that race.
            dropped = syncs_in_copy_data(steps)
            steps = [st for i, st in enumerate(steps) if i not in dropped]
        seq = ([] if MASKED else [SETUP_UNMASKED, ("wait",)]) + steps
        split = rng.choice(["whole", "whole", "each", "split"])
        diff, d, p = check(seq, split)
        played += 1
        if diff is None:
            continue
        failures += 1
        report(f"seed {seed}", seq, split, diff, d, p)
        if not args.no_minimise:
            small = minimise(seq, split)
            diff, d, p = check(small, split)
            if diff:
                report(f"seed {seed}, minimised", small, split, diff, d, p)
                start = 0 if MASKED else 2
                print(f"  corpus entry: ({mode!r}, 'seed {seed}', {split!r}, {small[start:]!r}),")
        if failures >= args.max_failures:
            break
    print(f"{mode}: {played} sequences in {time.monotonic() - started:.0f} s, "
          f"{failures} with differences (seed {args.seed})")
    sys.exit(1 if failures else 0)


SIDE_B_PORT = PROXY_PORT
SELF_CHECK = False

if __name__ == "__main__":
    main()
