// pgjdbc (the PostgreSQL JDBC driver) through pgveil. Every scenario runs on a direct
// connection and through pgveil and returns what the driver gave back as lines of text;
// the lines must be identical. Scenarios: many types in text and binary (server-side
// prepared statements from the first execution with prepareThreshold=1, never with 0),
// prepared statements re-executed, batches (many Bind/Execute before one Sync), fetch
// size with autocommit off (Execute with a row limit, PortalSuspended), errors with the
// session still usable, transactions and savepoints (also autosave), COPY with
// CopyManager, LISTEN/NOTIFY, Statement.cancel() and setQueryTimeout on pg_sleep, SCRAM
// and md5 logins, sslmode disable and prefer.
//
// Run by jdbc_test.sh under with_stack.sh (IT_PG_PORT, IT_PROXY_PORT, passwords).
// Usage: java -cp postgresql.jar:. JdbcTest [SCENARIO...]
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;

public class JdbcTest {
  static final int PG_PORT = Integer.parseInt(System.getenv("IT_PG_PORT"));
  static final int PROXY_PORT = Integer.parseInt(System.getenv("IT_PROXY_PORT"));

  // One row per g; every column a different type, NULLs every tenth row.
  static final String TYPES_SQL =
      "SELECT g::int2 AS i2, g * 100000 AS i4, g::int8 * 10000000000 AS i8,"
          + " g * 1.25::numeric(20, 4) AS num, (g::numeric / 7) ^ 3 AS num_long,"
          + " g::float4 / 3 AS f4, g::float8 / 3 AS f8, g % 2 = 0 AS flag,"
          + " 'näme ' || g || ' 名字 🙂' AS txt, repeat('x', g % 50)::varchar(60) AS vc,"
          + " decode(md5(g::text), 'hex') AS bin,"
          + " json_build_object('g', g, 's', 'ü') AS js,"
          + " jsonb_build_object('g', g, 'a', ARRAY[g, -g]) AS jb,"
          + " ARRAY[g, g + 1, NULL] AS int_arr, ARRAY['a' || g, NULL, 'ü'] AS text_arr,"
          + " ARRAY[g::float8, 0.5, 1e300] AS float_arr,"
          + " timestamptz '2024-01-01 00:00:00.123456+08' + g * interval '1 h 1 s' AS tstz,"
          + " timestamp '1999-12-31 23:59:59' + g * interval '1 day' AS ts,"
          + " date '2024-02-29' + g AS day, time '12:34:56.789' AS tm,"
          + " make_interval(0, g, 0, g, g, 0, g / 7.0) AS iv,"
          + " md5(g::text)::uuid AS uid, ('10.0.' || g % 256 || '.1/24')::inet AS addr,"
          + " numrange(g, g + 10) AS rng, point(g, -g) AS pt,"
          + " CASE WHEN g % 10 = 0 THEN NULL ELSE g END AS maybe,"
          + " 'NaN'::numeric AS nan, 'infinity'::timestamptz AS inf, '\\x00ff'::bytea AS bx"
          + " FROM generate_series(1, ?) g";

  interface Scenario {
    void run(int port, List<String> out) throws Exception;
  }

  static Connection connect(int port, String user, String... props) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    String password = switch (user) {
      case "it_md5" -> System.getenv("IT_MD5_PASSWORD");
      case "it_scram" -> System.getenv("IT_SCRAM_PASSWORD");
      default -> null;
    };
    if (password != null) p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("ApplicationName", "jdbc-test");
    for (int i = 0; i + 1 < props.length; i += 2) p.setProperty(props[i], props[i + 1]);
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/pgveil_it", p);
  }

  // ---- Turning what the driver returns into text ----

  static String value(ResultSet rs, int col) throws SQLException {
    Object o = rs.getObject(col);
    if (o == null) return rs.wasNull() ? "NULL" : "null?";
    // getString of a bytea received in binary is the array's identity: only which format
    // travelled is compared.
    String s = rs.getString(col);
    if (o instanceof byte[]) s = s.startsWith("\\x") ? "text" : "binary";
    String shown;
    if (o instanceof byte[] b) {
      shown = Arrays.toString(b);
    } else if (o instanceof Array a) {
      Object arr = a.getArray();
      shown = arr instanceof Object[] objs ? Arrays.deepToString(objs) : String.valueOf(arr);
    } else {
      shown = o.toString();
    }
    return o.getClass().getSimpleName() + ":" + shown + "|" + s;
  }

  static String header(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    StringBuilder sb = new StringBuilder("columns");
    for (int c = 1; c <= md.getColumnCount(); c++) {
      sb.append(' ').append(md.getColumnLabel(c)).append(':').append(md.getColumnTypeName(c));
    }
    return sb.toString();
  }

  static void rows(ResultSet rs, List<String> out) throws SQLException {
    out.add(header(rs));
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      StringBuilder sb = new StringBuilder();
      for (int c = 1; c <= n; c++) sb.append(c > 1 ? " | " : "").append(value(rs, c));
      out.add(sb.toString());
    }
    rs.close();
  }

  static String error(SQLException e) {
    return "error " + e.getSQLState() + ": " + e.getMessage();
  }

  static String bytes(ByteArrayOutputStream b) {
    byte[] a = b.toByteArray();
    return "bytes " + a.length + " " + Arrays.hashCode(a) + " "
        + new String(a, 0, Math.min(a.length, 300), StandardCharsets.ISO_8859_1);
  }

  // ---- Scenarios ----

  static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();
  // Lines (or parts of lines) the direct run must contain: the scenario did what it says.
  static final Map<String, String[]> EXPECTED = new LinkedHashMap<>();

  static void add(String name, Scenario s, String... expected) {
    SCENARIOS.put(name, s);
    EXPECTED.put(name, expected);
  }

  static void typesWith(String user, String format, String... props) {
    add("types " + user + " " + String.join(" ", props), (port, out) -> {
      try (Connection conn = connect(port, user, props)) {
        try (PreparedStatement ps = conn.prepareStatement(TYPES_SQL)) {
          for (int n : new int[] {3, 100, 100, 10}) {
            ps.setInt(1, n);
            rows(ps.executeQuery(), out);
          }
        }
        // A plain Statement (no parameters) and the simple query protocol.
        try (Statement st = conn.createStatement()) {
          rows(st.executeQuery(TYPES_SQL.replace("?", "50")), out);
        }
      }
    }, "byte[]:[0, -1]|" + format, "Double:NaN|NaN", "PGpoint:(3.0,-3.0)", "NULL");
  }

  static {
    // The bytea column tells which result format the driver chose.
    typesWith("it_scram", "binary", "prepareThreshold", "1");
    typesWith("it_md5", "text", "prepareThreshold", "0");
    typesWith("it_trust", "text", "prepareThreshold", "1", "binaryTransfer", "false");
    typesWith("it_trust", "text", "preferQueryMode", "simple");
    typesWith("it_trust", "binary", "prepareThreshold", "-1");  // forced binary from the start

    for (String threshold : new String[] {"0", "1", "5"}) {
      add("prepared re-executed, prepareThreshold=" + threshold, (port, out) -> {
        try (Connection conn = connect(port, "it_scram", "prepareThreshold", threshold);
            PreparedStatement ps = conn.prepareStatement(
                "SELECT id, name, price, tags, created FROM jt_items WHERE id = ? OR name = ?")) {
          for (int i = 1; i <= 60; i++) {
            ps.setInt(1, i);
            ps.setString(2, "item " + (i * 7));
            rows(ps.executeQuery(), out);
          }
          // The same text in a new PreparedStatement object: the driver's statement cache.
          try (PreparedStatement again = conn.prepareStatement(
                   "SELECT id, name, price, tags, created FROM jt_items WHERE id = ? OR name = ?")) {
            again.setInt(1, 42);
            again.setString(2, "none");
            rows(again.executeQuery(), out);
          }
          // A parameter type change re-prepares the statement.
          try (PreparedStatement ps2 = conn.prepareStatement("SELECT ?::text || 'x'")) {
            for (int i = 0; i < 10; i++) {
              if (i % 2 == 0) ps2.setInt(1, i); else ps2.setString(1, "s" + i);
              rows(ps2.executeQuery(), out);
            }
          }
        }
      }, "Integer:60|60", "Integer:42|42", "String:s9x|s9x");
    }

    for (String rewrite : new String[] {"false", "true"}) {
      add("batch, reWriteBatchedInserts=" + rewrite, (port, out) -> {
        try (Connection conn = connect(port, "it_md5", "reWriteBatchedInserts", rewrite,
                 "prepareThreshold", "1")) {
          try (Statement st = conn.createStatement()) {
            st.execute("CREATE TEMP TABLE jb (id int PRIMARY KEY, v text, d numeric)");
          }
          try (PreparedStatement ps = conn.prepareStatement("INSERT INTO jb VALUES (?, ?, ?)")) {
            for (int i = 1; i <= 2000; i++) {
              ps.setInt(1, i);
              ps.setString(2, "v" + i + " ü");
              ps.setBigDecimal(3, new java.math.BigDecimal(i).movePointLeft(3));
              ps.addBatch();
            }
            out.add("counts " + Arrays.toString(ps.executeBatch()).length());
            // A duplicate key in the middle of a batch.
            for (int i = 3000; i < 3100; i++) {
              ps.setInt(1, i == 3050 ? 5 : i);
              ps.setString(2, "dup");
              ps.setBigDecimal(3, java.math.BigDecimal.ONE);
              ps.addBatch();
            }
            try {
              ps.executeBatch();
              out.add("no error");
            } catch (BatchUpdateException e) {
              out.add(error(e) + " counts " + Arrays.toString(e.getUpdateCounts()));
            }
          }
          try (Statement st = conn.createStatement()) {
            rows(st.executeQuery("SELECT count(*), sum(id), max(v), sum(d) FROM jb"), out);
            // Statement batch: different SQL texts in one batch.
            st.addBatch("UPDATE jb SET v = 'a' WHERE id < 10");
            st.addBatch("DELETE FROM jb WHERE id > 1990");
            st.addBatch("INSERT INTO jb VALUES (99999, 'z', 0)");
            out.add("statement batch " + Arrays.toString(st.executeBatch()));
            rows(st.executeQuery("SELECT * FROM jb ORDER BY id DESC LIMIT 15"), out);
          }
        }
      }, "error 23505", "Long:2000|2000 | Long:2001000|2001000");
    }

    for (String threshold : new String[] {"0", "1"}) {
      add("fetch size, prepareThreshold=" + threshold, (port, out) -> {
        try (Connection conn = connect(port, "it_scram", "prepareThreshold", threshold)) {
          conn.setAutoCommit(false);
          try (PreparedStatement ps = conn.prepareStatement(
                   "SELECT * FROM jt_items WHERE id > ? ORDER BY id");
              PreparedStatement other = conn.prepareStatement(TYPES_SQL)) {
            ps.setFetchSize(100);
            ps.setInt(1, 0);
            rows(ps.executeQuery(), out);
            // Two portals open at once, fetched alternately.
            ps.setFetchSize(37);
            ps.setInt(1, 4000);
            other.setFetchSize(50);
            other.setInt(1, 200);
            ResultSet a = ps.executeQuery();
            ResultSet b = other.executeQuery();
            boolean more = true;
            while (more) {
              more = false;
              for (int i = 0; i < 40 && a.next(); i++, more = true) out.add("a " + value(a, 1));
              for (int i = 0; i < 40 && b.next(); i++, more = true) {
                out.add("b " + value(b, 1) + " " + value(b, 17));
              }
            }
            a.close();
            b.close();
            // A result set closed early: its portal is closed, the next query works.
            ps.setInt(1, 0);
            ResultSet early = ps.executeQuery();
            for (int i = 0; i < 5 && early.next(); i++) out.add("early " + value(early, 2));
            early.close();
          }
          conn.commit();
          try (Statement st = conn.createStatement()) {
            st.setFetchSize(1000);
            rows(st.executeQuery("SELECT g, md5(g::text) FROM generate_series(1, 5000) g"), out);
            st.setMaxRows(30);
            rows(st.executeQuery("SELECT g FROM generate_series(1, 5000) g"), out);
          }
          conn.commit();
        }
      }, "a Integer:4001|4001", "b Integer:200|200", "early String:item 5|item 5");
    }

    add("errors keep the session usable", (port, out) -> {
      try (Connection conn = connect(port, "it_trust", "prepareThreshold", "1")) {
        String[] bad = {"SELECT 1 / 0", "SELEC 1", "SELECT * FROM no_such_table",
            "SELECT 'x'::int", "INSERT INTO jt_items (id, name) VALUES (1, 'dup')",
            "SELECT (-1)::pos_int"};
        for (String sql : bad) {
          try (Statement st = conn.createStatement()) {
            st.execute(sql);
            out.add("no error");
          } catch (SQLException e) {
            out.add(error(e));
          }
          try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.execute();
            out.add("no error");
          } catch (SQLException e) {
            out.add(error(e));
          }
          try (Statement st = conn.createStatement()) {
            rows(st.executeQuery("SELECT 'still here'"), out);
          }
        }
        // In a transaction: aborted until rollback; an error while fetching.
        conn.setAutoCommit(false);
        try (Statement st = conn.createStatement()) {
          st.setFetchSize(100);
          try {
            rows(st.executeQuery("SELECT 10 / (500 - g) FROM generate_series(1, 1000) g"), out);
          } catch (SQLException e) {
            out.add(error(e));
          }
          try {
            st.executeQuery("SELECT 1");
          } catch (SQLException e) {
            out.add(error(e));
          }
          conn.rollback();
          rows(st.executeQuery("SELECT 'after rollback'"), out);
        }
        conn.commit();
      }
    }, "error 22012", "error 42601", "error 42P01", "error 22P02", "error 23505", "error 23514",
        "error 25P02", "after rollback");

    for (String autosave : new String[] {"never", "always"}) {
      add("transactions and savepoints, autosave=" + autosave, (port, out) -> {
        try (Connection conn = connect(port, "it_scram", "autosave", autosave);
            Statement st = conn.createStatement()) {
          st.execute("CREATE TEMP TABLE tx (id int PRIMARY KEY)");
          conn.setAutoCommit(false);
          st.execute("INSERT INTO tx VALUES (1)");
          Savepoint sp = conn.setSavepoint("before_two");
          st.execute("INSERT INTO tx VALUES (2)");
          try {
            st.execute("INSERT INTO tx VALUES (1)");
          } catch (SQLException e) {
            out.add(error(e));
          }
          // autosave=always: the driver rolled back to its own savepoint, the transaction
          // goes on; never: it is aborted until the rollback to sp.
          try {
            rows(st.executeQuery("SELECT count(*) FROM tx"), out);
          } catch (SQLException e) {
            out.add(error(e));
          }
          conn.rollback(sp);
          Savepoint unnamed = conn.setSavepoint();
          st.execute("INSERT INTO tx VALUES (3)");
          conn.releaseSavepoint(unnamed);
          conn.commit();
          st.execute("INSERT INTO tx VALUES (4)");
          conn.rollback();
          conn.setAutoCommit(true);
          rows(st.executeQuery("SELECT id FROM tx ORDER BY id"), out);
          conn.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
          conn.setReadOnly(true);
          conn.setAutoCommit(false);
          rows(st.executeQuery("SELECT current_setting('transaction_isolation'), "
                   + "current_setting('transaction_read_only')"), out);
          try {
            st.execute("CREATE TABLE not_in_read_only (x int)");
          } catch (SQLException e) {
            out.add(error(e));
          }
          conn.rollback();
        }
      }, "error 23505", "Integer:1|1", "Integer:3|3", "String:serializable|serializable",
          "error 25006");
    }

    add("copy", (port, out) -> {
      try (Connection conn = connect(port, "it_trust")) {
        CopyManager copy = conn.unwrap(PGConnection.class).getCopyAPI();
        for (String sql : new String[] {"COPY jt_items TO STDOUT",
                 "COPY (SELECT * FROM jt_items ORDER BY id) TO STDOUT (FORMAT csv, HEADER)",
                 "COPY jt_items TO STDOUT (FORMAT binary)",
                 "COPY (" + TYPES_SQL.replace("?", "1000") + ") TO STDOUT (FORMAT binary)",
                 "COPY (" + TYPES_SQL.replace("?", "1000") + ") TO STDOUT"}) {
          ByteArrayOutputStream b = new ByteArrayOutputStream();
          out.add("rows " + copy.copyOut(sql, b));
          out.add(bytes(b));
        }
        try (Statement st = conn.createStatement()) {
          st.execute("CREATE TEMP TABLE copy_in (id int, name text, at timestamptz)");
        }
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 5000; i++) text.append(i).append("\tline ü ").append(i).append("\t\\N\n");
        out.add("in " + copy.copyIn("COPY copy_in FROM STDIN",
                    new ByteArrayInputStream(text.toString().getBytes(StandardCharsets.UTF_8))));
        out.add("in csv " + copy.copyIn("COPY copy_in FROM STDIN (FORMAT csv)",
                    new ByteArrayInputStream("30000,\"a,b\",2024-01-01 00:00+00\n".getBytes())));
        try {
          copy.copyIn("COPY copy_in FROM STDIN",
              new ByteArrayInputStream("1\tok\t\\N\nnot a number\tx\t\\N\n".getBytes()));
          out.add("no error");
        } catch (SQLException e) {
          out.add(error(e));
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        copy.copyOut("COPY (SELECT * FROM copy_in ORDER BY id) TO STDOUT", b);
        out.add(bytes(b));
      }
    }, "rows 5000", "rows 1000", "in 5000", "in csv 1", "error 22P02");

    add("listen and notify", (port, out) -> {
      try (Connection conn = connect(port, "it_scram")) {
        PGConnection pg = conn.unwrap(PGConnection.class);
        try (Statement st = conn.createStatement()) {
          st.execute("LISTEN jobs");
          st.execute("LISTEN \"Other Channel\"");
        }
        try (Connection sender = connect(PG_PORT, "it_trust"); Statement st = sender.createStatement()) {
          st.execute("NOTIFY jobs, 'one'");
          st.execute("SELECT pg_notify('Other Channel', 'zwei ü')");
          sender.setAutoCommit(false);
          st.execute("NOTIFY jobs, 'in a transaction'");
          sender.commit();
        }
        // Blocks reading the idle connection until they arrive.
        List<String> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (got.size() < 3 && System.nanoTime() < deadline) {
          PGNotification[] ns = pg.getNotifications(10000);
          if (ns != null) for (PGNotification n : ns) got.add(n.getName() + ":" + n.getParameter());
        }
        out.addAll(got);
        try (Statement st = conn.createStatement()) {
          st.execute("UNLISTEN jobs");
          st.execute("NOTIFY jobs, 'not heard'");
          st.execute("NOTIFY \"Other Channel\", 'heard'");
        }
        PGNotification[] ns = pg.getNotifications(2000);
        if (ns != null) for (PGNotification n : ns) out.add(n.getName() + ":" + n.getParameter());
      }
    }, "jobs:one", "Other Channel:zwei ü", "jobs:in a transaction", "Other Channel:heard");

    add("cancel", (port, out) -> {
      try (Connection conn = connect(port, "it_trust", "prepareThreshold", "1")) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
          for (int i = 0; i < 2; i++) {
            try (Statement st = conn.createStatement()) {
              long started = System.nanoTime();
              timer.schedule(() -> {
                st.cancel();
                return null;
              }, 500, TimeUnit.MILLISECONDS);
              try {
                st.execute("SELECT pg_sleep(30)");
                out.add("not cancelled");
              } catch (SQLException e) {
                out.add(error(e));
              }
              out.add("within 5 s: " + (System.nanoTime() - started < 5_000_000_000L));
              rows(st.executeQuery("SELECT 'usable'"), out);
            }
          }
          try (PreparedStatement ps = conn.prepareStatement("SELECT pg_sleep(?)")) {
            ps.setQueryTimeout(1);
            ps.setInt(1, 30);
            long started = System.nanoTime();
            try {
              ps.execute();
              out.add("not cancelled");
            } catch (SQLException e) {
              out.add(error(e));
            }
            out.add("within 5 s: " + (System.nanoTime() - started < 5_000_000_000L));
            ps.setInt(1, 0);
            rows(ps.executeQuery(), out);
          }
          try (Statement st = conn.createStatement()) {
            rows(st.executeQuery("SELECT count(*) FROM pg_stat_activity "
                     + "WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active' "
                     + "AND pid <> pg_backend_pid()"), out);
          }
        } finally {
          timer.shutdownNow();
        }
      }
    }, "error 57014", "within 5 s: true", "String:usable|usable", "Long:0|0");

    for (String user : new String[] {"it_scram", "it_md5", "it_trust"}) {
      for (String ssl : new String[] {"disable", "prefer", "allow"}) {
        add("login " + user + " sslmode=" + ssl, (port, out) -> {
          try (Connection conn = connect(port, user, "sslmode", ssl);
              Statement st = conn.createStatement()) {
            rows(st.executeQuery("SELECT current_user, ssl FROM pg_stat_ssl "
                     + "WHERE pid = pg_backend_pid()"), out);
          }
        }, "String:" + user + "|" + user + " | Boolean:false|f");
      }
    }
    add("bad logins", (port, out) -> {
      String[][] cases = {{"it_scram", "wrong"}, {"it_md5", "wrong"}, {"nobody", "x"}};
      for (String[] u : cases) {
        Properties p = new Properties();
        p.setProperty("user", u[0]);
        p.setProperty("password", u[1]);
        p.setProperty("sslmode", "disable");
        try (Connection conn = DriverManager.getConnection(
                 "jdbc:postgresql://127.0.0.1:" + port + "/pgveil_it", p)) {
          out.add("connected");
        } catch (SQLException e) {
          out.add(error(e));
        }
      }
    }, "error 28P01");
  }

  static List<String> runOn(int port, Scenario s) throws Exception {
    List<String> out = new ArrayList<>();
    s.run(port, out);
    return out;
  }

  static void setUp() throws SQLException {
    try (Connection conn = connect(PG_PORT, "it_trust"); Statement st = conn.createStatement()) {
      st.execute("DROP TABLE IF EXISTS jt_items; DROP DOMAIN IF EXISTS pos_int;"
          + "CREATE DOMAIN pos_int AS int CHECK (VALUE > 0);"
          + "CREATE TABLE jt_items (id int PRIMARY KEY, name text NOT NULL, price numeric(10, 2),"
          + " tags text[], created timestamptz);"
          + "INSERT INTO jt_items SELECT g, 'item ' || g, g / 3.0, ARRAY['t' || g % 7, 'ü'],"
          + " timestamptz '2024-03-01 12:00+00' + g * interval '37 min' FROM generate_series(1, 5000) g;"
          + "GRANT ALL ON jt_items TO PUBLIC; GRANT USAGE ON DOMAIN pos_int TO PUBLIC;");
    }
  }

  public static void main(String[] args) throws Exception {
    setUp();
    List<String> wanted = Arrays.asList(args);
    int failed = 0;
    int ran = 0;
    for (Map.Entry<String, Scenario> e : SCENARIOS.entrySet()) {
      if (!wanted.isEmpty() && wanted.stream().noneMatch(w -> e.getKey().contains(w))) continue;
      ran++;
      long started = System.nanoTime();
      String verdict;
      try {
        List<String> want = runOn(PG_PORT, e.getValue());
        List<String> got = runOn(PROXY_PORT, e.getValue());
        verdict = compare(want, got);
        for (String x : EXPECTED.get(e.getKey())) {
          if (verdict == null && want.stream().noneMatch(l -> l.contains(x))) {
            verdict = "the direct run lacks \"" + x + "\": the scenario proves nothing";
          }
        }
      } catch (Exception ex) {
        ex.printStackTrace();
        verdict = "exception " + ex;
      }
      long ms = (System.nanoTime() - started) / 1_000_000;
      System.out.println((verdict == null ? "ok   " : "FAIL ") + e.getKey() + " (" + ms + " ms)"
          + (verdict == null ? "" : "\n     " + verdict));
      if (verdict != null) failed++;
    }
    System.out.println(ran + " scenarios, " + failed + " failed");
    System.exit(failed == 0 && ran > 0 ? 0 : 1);
  }

  // null when equal; otherwise the first difference.
  static String compare(List<String> want, List<String> got) {
    for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
      if (!want.get(i).equals(got.get(i))) {
        return "line " + i + " differs:\n     direct:  " + want.get(i) + "\n     proxied: " + got.get(i);
      }
    }
    if (want.size() != got.size()) {
      return "direct gave " + want.size() + " lines, proxied " + got.size() + "; first extra: "
          + (want.size() > got.size() ? want.get(got.size()) : got.get(want.size()));
    }
    return want.isEmpty() ? "no output" : null;
  }
}
