#!/usr/bin/env bash
# Compiles JdbcTest.java against the PostgreSQL JDBC driver into $IT_TMP and runs it
# (under with_stack.sh). PGVEIL_JDBC_JAR overrides the driver's jar (default: Debian's
# libpostgresql-jdbc-java). Arguments select scenarios by name.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
jar=${PGVEIL_JDBC_JAR:-/usr/share/java/postgresql.jar}
classes=$IT_TMP/jdbc-classes
mkdir -p "$classes"
javac -encoding UTF-8 -d "$classes" -cp "$jar" "$here/JdbcTest.java"
exec java -Duser.timezone=UTC -Dfile.encoding=UTF-8 -cp "$jar:$classes" JdbcTest "$@"
