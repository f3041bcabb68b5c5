// pgjdbc (the PostgreSQL JDBC driver) against a masked pgveil session (run by
// drivers_test through run.sh).
//
// Connects with PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (sslmode disable) and
// writes to $MASKING_OUT:
//   rows.tsv      $MASKING_SQL's rows, tab-separated (NULL as \N), eight runs:
//                   prepareThreshold=1 (server-side statements, binary results):
//                   1. a Statement  2-4. a PreparedStatement executed three times
//                   5. fetch size 100 with autocommit off (row-limited Execute)
//                   prepareThreshold=0 (unnamed statements, text results):
//                   6. a PreparedStatement  7. fetch size 100
//                   8. COPY crm.members (the same columns) TO STDOUT with CopyManager
//   lookup.tsv    $MASKING_SQL's row for member ids taken from run 1 (rows 0, 7, 1999),
//                 each bound with setLong in WHERE member_id = ? (a pseudonym when masked)
//   checks.txt    one line per check: for statements the sales policy refuses
//                 "refused <SQLSTATE>" or "allowed", then "usable" when the session still
//                 works, then "batch written" when member ids inserted into
//                 crm.contact_log with addBatch read back the same (or "batch refused
//                 <SQLSTATE>"); for the driver's catalog queries (DatabaseMetaData,
//                 ResultSetMetaData) "<what>: ok" or "<what>: refused <SQLSTATE> <message>"
//   received.txt  everything else the session received, for the leak scan
import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGResultSetMetaData;

public class JdbcClient {
  interface Step {
    void run() throws Exception;
  }

  static final List<String> rows = new ArrayList<>();
  static final List<String> lookup = new ArrayList<>();
  static final List<String> checks = new ArrayList<>();
  static final List<String> received = new ArrayList<>();

  static Connection connect(String prepareThreshold) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", System.getenv("PGUSER"));
    p.setProperty("password", System.getenv("PGPASSWORD"));
    p.setProperty("sslmode", "disable");
    p.setProperty("prepareThreshold", prepareThreshold);
    return DriverManager.getConnection("jdbc:postgresql://" + System.getenv("PGHOST") + ":"
        + System.getenv("PGPORT") + "/" + System.getenv("PGDATABASE"), p);
  }

  // Appends each row as a line; returns the first column of every row.
  static List<String> collect(ResultSet rs, List<String> out) throws SQLException {
    List<String> first = new ArrayList<>();
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      StringBuilder sb = new StringBuilder();
      for (int c = 1; c <= n; c++) {
        String v = rs.getString(c);
        sb.append(c > 1 ? "\t" : "").append(v == null ? "\\N" : v);
      }
      out.add(sb.toString());
      first.add(rs.getString(1));
    }
    rs.close();
    return first;
  }

  // A catalog-reading step of the driver: recorded as ok or refused, never fatal.
  static void catalog(String what, Step step) {
    try {
      step.run();
      checks.add(what + ": ok");
    } catch (SQLException e) {
      checks.add(what + ": refused " + e.getSQLState() + " " + e.getMessage().replace('\n', ' '));
    } catch (Exception e) {
      checks.add(what + ": failed " + e);
    }
  }

  static void refused(Connection conn, String sql, String param) {
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      if (param != null) ps.setString(1, param);
      ps.executeQuery().close();
      checks.add("allowed");
    } catch (SQLException e) {
      checks.add("refused " + e.getSQLState());
    }
  }

  static void write(String name, List<String> lines) throws IOException {
    Files.write(Path.of(System.getenv("MASKING_OUT"), name), lines, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    String sql = System.getenv("MASKING_SQL");
    List<String> ids;
    byte[] copied;
    try (Connection conn = connect("1")) {
      try (Statement st = conn.createStatement()) {
        ids = collect(st.executeQuery(sql), rows);
      }
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        for (int i = 0; i < 3; i++) collect(ps.executeQuery(), rows);
      }
      conn.setAutoCommit(false);
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        ps.setFetchSize(100);
        collect(ps.executeQuery(), rows);
      }
      conn.commit();
      conn.setAutoCommit(true);

      try (PreparedStatement ps = conn.prepareStatement(sql + " WHERE member_id = ?")) {
        for (int i : new int[] {0, 7, 1999}) {
          ps.setLong(1, Long.parseLong(ids.get(i)));
          collect(ps.executeQuery(), lookup);
        }
      }
      // The same members looked up at once, with an array of their ids (text format,
      // declared int8[]), and everyone else with <> ALL.
      catalog("lookup with = ANY(?)", () -> {
        Long[] three = {Long.parseLong(ids.get(0)), Long.parseLong(ids.get(7)),
                        Long.parseLong(ids.get(1999))};
        try (PreparedStatement ps = conn.prepareStatement(
                 sql + " WHERE member_id = ANY(?)")) {
          ps.setArray(1, conn.createArrayOf("bigint", three));
          List<String> got = new ArrayList<>();
          collect(ps.executeQuery(), got);
          List<String> want = new ArrayList<>(lookup);
          got.sort(null);
          want.sort(null);
          if (!got.equals(want)) throw new IllegalStateException("= ANY(?) found other rows");
        }
        try (PreparedStatement ps = conn.prepareStatement(
                 "SELECT count(*) FROM crm.members WHERE member_id <> ALL(?)")) {
          ps.setArray(1, conn.createArrayOf("bigint", three));
          ResultSet rs = ps.executeQuery();
          rs.next();
          if (rs.getLong(1) != ids.size() - 3) throw new IllegalStateException("<> ALL(?) count");
          rs.close();
        }
      });

      // Joins with ORDER BY and LIMIT; pseudonyms joined across tables and bound.
      try (PreparedStatement ps = conn.prepareStatement(
               "SELECT m.member_id, m.nickname, m.real_name, m.phone, c.pool, c.status, "
               + "s.login, st.city FROM crm.members m "
               + "JOIN crm.resource_claims c ON c.member_id = m.member_id "
               + "JOIN crm.staff s ON s.staff_id = c.staff_id JOIN crm.stores st USING (store_id) "
               + "WHERE c.status = ? ORDER BY c.claimed_at DESC, s.staff_id LIMIT ?")) {
        ps.setString(1, "open");
        ps.setInt(2, 40);
        ResultSet rs = ps.executeQuery();
        ResultSetMetaData md = rs.getMetaData();
        PGResultSetMetaData pgmd = md.unwrap(PGResultSetMetaData.class);
        // Each of these makes the driver read pg_attribute / pg_class / pg_type.
        catalog("ResultSetMetaData", () -> {
          for (int c = 1; c <= md.getColumnCount(); c++) {
            received.add(md.getColumnName(c) + " " + md.getColumnTypeName(c) + " "
                + pgmd.getBaseTableName(c) + "." + pgmd.getBaseColumnName(c) + " "
                + md.isNullable(c) + " " + md.isAutoIncrement(c));
          }
        });
        collect(rs, received);
      }
      try (PreparedStatement ps = conn.prepareStatement(
               "SELECT v.viewer_id, v.viewed_at, m.email, m.birth_date, m.monthly_income "
               + "FROM crm.profile_views v JOIN crm.members m ON m.member_id = v.viewed_id "
               + "WHERE v.viewer_id = ? ORDER BY m.city, m.nickname LIMIT 20")) {
        ps.setLong(1, Long.parseLong(ids.get(3)));
        collect(ps.executeQuery(), received);
      }
      try (Statement st = conn.createStatement()) {
        collect(st.executeQuery("SELECT sender_id, receiver_id, sent_at, body "
                    + "FROM crm.chat_messages ORDER BY message_id LIMIT 200"), received);
      }

      DatabaseMetaData meta = conn.getMetaData();
      catalog("getTables", () -> collect(meta.getTables(null, "crm", "%", new String[] {"TABLE"}), received));
      catalog("getColumns", () -> collect(meta.getColumns(null, "crm", "members", null), received));
      catalog("getPrimaryKeys", () -> collect(meta.getPrimaryKeys(null, "crm", "members"), received));
      catalog("getImportedKeys", () -> collect(meta.getImportedKeys(null, "crm", "contact_log"), received));
      catalog("getIndexInfo", () -> collect(meta.getIndexInfo(null, "crm", "members", false, true), received));
      catalog("getSchemas", () -> collect(meta.getSchemas(), received));
      // The driver's type lookup (a USING join with a catalog) for every type.
      catalog("getTypeInfo", () -> collect(meta.getTypeInfo(), received));
      catalog("getVersionColumns", () -> collect(meta.getVersionColumns(null, "crm", "members"), received));
      catalog("getFunctionColumns",
          () -> collect(meta.getFunctionColumns(null, "pg_catalog", "lower", "%"), received));

      refused(conn, "SELECT member_id FROM crm.members WHERE phone = ?", "13800000000");
      refused(conn, "SELECT member_id FROM crm.members WHERE phone LIKE '138%'", null);
      try (Statement st = conn.createStatement()) {
        ResultSet rs = st.executeQuery("SELECT count(*) FROM crm.members");
        rs.next();
        if (rs.getInt(1) == ids.size()) checks.add("usable");
      }

      // A batch (Bind/Execute pipelined before one Sync) writing member ids, read back.
      List<String> written = List.of(ids.get(1), ids.get(2), ids.get(3));
      try (PreparedStatement ps = conn.prepareStatement(
               "INSERT INTO crm.contact_log (staff_id, member_id, channel, outcome, note) "
               + "VALUES (?, ?, 'call', 'jdbc batch', ?)");
          Statement st = conn.createStatement()) {
        ResultSet staff = st.executeQuery("SELECT min(staff_id) FROM crm.staff");
        staff.next();
        for (String id : written) {
          ps.setInt(1, staff.getInt(1));
          ps.setLong(2, Long.parseLong(id));
          ps.setString(3, "note " + id.length());
          ps.addBatch();
        }
        ps.executeBatch();
        List<String> read = collect(st.executeQuery("SELECT member_id FROM crm.contact_log "
                                        + "WHERE outcome = 'jdbc batch' ORDER BY contact_id"),
            received);
        checks.add(read.equals(written) ? "batch written" : "batch read back differs");
      } catch (SQLException e) {
        SQLException cause = e.getNextException() != null ? e.getNextException() : e;
        checks.add("batch refused " + cause.getSQLState());
      }

      ByteArrayOutputStream b = new ByteArrayOutputStream();
      conn.unwrap(PGConnection.class).getCopyAPI().copyOut(
          "COPY crm.members (member_id, phone, real_name, email, height_cm, monthly_income, "
          + "birth_date, wechat_id) TO STDOUT", b);
      copied = b.toByteArray();
    }

    try (Connection conn = connect("0")) {
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        collect(ps.executeQuery(), rows);
      }
      conn.setAutoCommit(false);
      try (Statement st = conn.createStatement()) {
        st.setFetchSize(100);
        collect(st.executeQuery(sql), rows);
      }
      conn.commit();
    }

    write("rows.tsv", rows);
    try (FileOutputStream out =
             new FileOutputStream(Path.of(System.getenv("MASKING_OUT"), "rows.tsv").toFile(), true)) {
      out.write(copied);
    }
    write("lookup.tsv", lookup);
    write("checks.txt", checks);
    write("received.txt", received);
  }
}
