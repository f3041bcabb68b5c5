"""psycopg 3 over TLS through pgveil (run by tls_drivers_test).

argv: pgveil port, CA file, other CA file, SCRAM password. sslmode=verify-full against
the test CA for host "localhost" (pgveil's certificate carries that name); checks text
and binary parameters, COPY, that both legs are TLS, and that an unknown CA, the wrong
host name and plaintext are refused. Exits non-zero on any mismatch.
"""
import sys

import psycopg

PORT, CA, OTHER_CA, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def connect(**overrides):
    params = dict(host="localhost", hostaddr="127.0.0.1", port=PORT, dbname="pgveil_it",
                  user="it_scram", password=PASSWORD, sslmode="verify-full", sslrootcert=CA,
                  connect_timeout=10)
    params.update(overrides)
    return psycopg.connect(**params)


def refused(label, **overrides):
    try:
        connect(**overrides).close()
    except psycopg.OperationalError as e:
        print(f"{label}: refused as expected ({str(e).splitlines()[0]})")
        return
    sys.exit(f"{label}: connected but should have been refused")


with connect() as conn:
    assert conn.pgconn.ssl_in_use, "client leg is not TLS"
    cur = conn.cursor()
    cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    assert cur.fetchone() == (True,), "upstream leg is not TLS"
    cur.execute("SELECT %s::int * 2, %s::text", (21, "tls"), binary=True)
    assert cur.fetchone() == (42, "tls")
    with cur.copy("COPY (SELECT g FROM generate_series(1, 1000) g) TO STDOUT") as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    assert data == b"".join(b"%d\n" % i for i in range(1, 1001)), "COPY bytes differ"
    print("psycopg verify-full: ok")

with connect(channel_binding="require") as conn:
    print("psycopg channel_binding=require: ok")

refused("untrusted CA", sslrootcert=OTHER_CA)
refused("wrong host name", host="db.example")
refused("plaintext", sslmode="disable")
