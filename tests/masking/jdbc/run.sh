#!/usr/bin/env bash
# Compiles JdbcClient.java against the PostgreSQL JDBC driver into $MASKING_OUT and runs
# it. PGVEIL_JDBC_JAR overrides the driver's jar (default: Debian's
# libpostgresql-jdbc-java).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
jar=${PGVEIL_JDBC_JAR:-/usr/share/java/postgresql.jar}
classes=$MASKING_OUT/classes
mkdir -p "$classes"
javac -encoding UTF-8 -d "$classes" -cp "$jar" "$here/JdbcClient.java"
exec java -Duser.timezone=UTC -Dfile.encoding=UTF-8 -cp "$jar:$classes" JdbcClient
