package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A refresh binds {@code $4}, the change rows of each source, and each change CTE tells the planner
 * that size (docs/DIFFERENTIAL.md, "The size of each change window"). A window stored as one batch
 * was estimated at about ten rows whatever its size.
 */
class ChangeWindowEstimateTest {
    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(ChangeWindowEstimateTest.class);
        db.exec("CREATE TABLE orders (o_id int PRIMARY KEY, o_cust int NOT NULL, o_day int NOT NULL)",
                "CREATE TABLE items (i_order int NOT NULL, i_line int NOT NULL, i_flag text NOT NULL, i_price numeric NOT NULL,"
                        + " PRIMARY KEY (i_order, i_line))",
                "INSERT INTO orders SELECT g, g % 500, g % 90 FROM generate_series(1, 20000) g",
                "INSERT INTO items SELECT g / 4 + 1, g % 4, CASE WHEN g % 3 = 0 THEN 'R' ELSE 'N' END, g % 97"
                        + " FROM generate_series(0, 79999) g",
                "ANALYZE orders", "ANALYZE items");
        db.api.create(CreateOptions.of("returned", "SELECT o.o_cust, sum(i.i_price) AS revenue FROM orders o"
                + " JOIN items i ON i.i_order = o.o_id WHERE i.i_flag = 'R' AND o.o_day < 30 GROUP BY o.o_cust")
                .withRefreshMode(RefreshMode.DIFFERENTIAL));
    }

    @Test
    void theChangeCteOfEachSourceIsEstimatedAtItsWindowsSize() throws Exception {
        // one statement each: every window is a single stored batch
        db.exec("INSERT INTO orders SELECT g, g % 500, g % 90 FROM generate_series(20001, 23000) g",
                "INSERT INTO items SELECT o_id, 0, 'R', 5 FROM orders WHERE o_id > 20000",
                "UPDATE items SET i_price = i_price + 1 WHERE i_order % 10 = 0 AND i_order <= 20000");
        long orders = db.queryLong("SELECT 'orders'::regclass::oid");
        long items = db.queryLong("SELECT 'items'::regclass::oid");

        Map<String, double[]> ctes = changeCtes(db, "returned");
        assertThat(ctes).containsOnlyKeys("__pgt_chg_" + orders, "__pgt_chg_" + items);
        // orders: 3,000 inserted rows; items: 3,000 inserted plus 8,000 updated (a D and an I each)
        assertThat(ctes.get("__pgt_chg_" + orders)[1]).isEqualTo(3000);
        assertThat(ctes.get("__pgt_chg_" + orders)[0]).isGreaterThanOrEqualTo(3000);
        assertThat(ctes.get("__pgt_chg_" + items)[1]).isEqualTo(19000);
        assertThat(ctes.get("__pgt_chg_" + items)[0]).isGreaterThanOrEqualTo(19000);

        assertThat(db.api.refresh("returned").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("returned");
    }

    @Test
    void sqlCompiledBeforeTheSizesWereBoundStillRefreshes() {
        // the branch removed: what a stream table created by an earlier version stores
        String sql = db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'returned'");
        String legacy = sql.replaceAll(" UNION ALL SELECT \\(NULL::.*? WHERE pg_catalog\\.now\\(\\) IS NULL", "");
        assertThat(legacy).isNotEqualTo(sql).doesNotContain("$4");
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET diff_apply_sql = '" + legacy.replace("'", "''") + "' WHERE pgt_name = 'returned'");

        db.exec("UPDATE items SET i_price = i_price * 2 WHERE i_order < 300", "DELETE FROM orders WHERE o_id % 7 = 0 AND o_id < 900");
        assertThat(db.api.refresh("returned").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("returned");
    }

    private static final Pattern CTE = Pattern.compile(
            "CTE (__pgt_chg_\\d+)\\n\\s*->.*?\\(cost=\\S+ rows=(\\d+) [^)]*\\) \\(actual time=\\S+ rows=([\\d.]+) ");

    /**
     * Estimated and actual rows of each change CTE in EXPLAIN ANALYZE of the stream table's refresh
     * statement, bound as a refresh binds it (in a transaction that is rolled back).
     */
    private static Map<String, double[]> changeCtes(Db db, String streamTable) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            st.execute("SET LOCAL pg_trickle.internal_refresh = on");
            String[] bound = new String[4];
            try (ResultSet rs = st.executeQuery("SELECT s.diff_apply_sql, s.frontier::text, p.changed_sources::text,"
                    + " p.changed_counts::text FROM pgtrickle.pgt_stream_tables s,"
                    + " pgtrickle._pending_changes(s.pgt_id, pg_current_snapshot()) p WHERE s.pgt_name = '" + streamTable + "'")) {
                rs.next();
                for (int i = 0; i < 4; i++) {
                    bound[i] = rs.getString(i + 1);
                }
            }
            st.execute("PREPARE w(pg_snapshot, pg_snapshot, oid[], bigint[]) AS " + bound[0]);
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = st.executeQuery("EXPLAIN ANALYZE EXECUTE w(pg_current_snapshot(), '" + bound[1] + "', '"
                    + bound[2] + "', '" + bound[3] + "')")) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            c.rollback();
            Map<String, double[]> out = new LinkedHashMap<>();
            Matcher m = CTE.matcher(plan);
            while (m.find()) {
                out.put(m.group(1), new double[] {Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))});
            }
            return out;
        }
    }
}
