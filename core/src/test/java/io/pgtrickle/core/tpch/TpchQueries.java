package io.pgtrickle.core.tpch;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The 22 TPC-H queries as stream-table definitions ({@code tpch/qNN.sql}, each starting with a
 * comment that names its parameters and adaptations), and the reference answers at scale 0.01
 * that ship with the generator ({@code io/trino/tpch/queries/qN.result}, for the validation
 * parameters), to check the loader and the adapted query texts against.
 */
public final class TpchQueries {
    private static final Pattern LIMIT_DROPPED = Pattern.compile("LIMIT (\\d+) dropped");

    /**
     * One query.
     *
     * @param name         q01 … q22, also the stem of its stream tables' names
     * @param title        from the first line of its comment, e.g. "TPC-H Q17, small-quantity-order revenue"
     * @param sql          the query without its leading comment
     * @param limitDropped the specification's LIMIT that the adaptation dropped, 0 if none
     */
    public record Query(String name, String title, String sql, int limitDropped) {
    }

    private TpchQueries() {
    }

    public static List<Query> all() {
        List<Query> out = new ArrayList<>();
        for (int i = 1; i <= 22; i++) {
            out.add(load(String.format("q%02d", i)));
        }
        return out;
    }

    public static Query load(String name) {
        String text = TpchLoader.resource("tpch/" + name + ".sql");
        StringBuilder header = new StringBuilder();
        StringBuilder sql = new StringBuilder();
        String title = name;
        for (String line : text.split("\n")) {
            if (sql.length() == 0 && line.startsWith("--")) {
                if (header.length() == 0) { // "-- TPC-H Q17, small-quantity-order revenue. Validation parameters: ..."
                    title = line.substring(2).strip().replaceFirst("\\. .*$", "").replaceFirst("\\.$", "");
                }
                header.append(line).append('\n');
            } else {
                sql.append(line).append('\n');
            }
        }
        Matcher m = LIMIT_DROPPED.matcher(header);
        return new Query(name, title, sql.toString().strip(), m.find() ? Integer.parseInt(m.group(1)) : 0);
    }

    /**
     * Differences between the query's answer on freshly loaded scale-0.01 data and the reference
     * answer; empty when they agree. Text is compared without char(n) padding, numbers to the
     * reference's precision (one unit of its last digit). Where the adaptation dropped a LIMIT, the
     * reference rows (the first rows of the ordered answer) must be among the answer's rows.
     */
    public static List<String> againstReference(Connection c, Query q) throws SQLException {
        String ref = TpchLoader.resource("io/trino/tpch/queries/q" + Integer.parseInt(q.name().substring(1)) + ".result");
        List<List<String>> expected = new ArrayList<>();
        for (String line : ref.split("\n")) {
            if (!line.startsWith("--") && !line.isBlank()) {
                List<String> fields = new ArrayList<>(Arrays.asList(line.split("\\|", -1)));
                if (fields.get(fields.size() - 1).isEmpty()) {
                    fields.remove(fields.size() - 1);
                }
                expected.add(fields.stream().map(String::strip).toList());
            }
        }
        List<List<String>> actual = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(q.sql())) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    String v = rs.getString(i);
                    row.add(v == null ? "null" : v.strip());
                }
                actual.add(row);
            }
        }
        List<String> out = new ArrayList<>();
        List<List<String>> unmatched = new ArrayList<>(actual);
        for (List<String> e : expected) {
            int at = -1;
            for (int i = 0; i < unmatched.size() && at < 0; i++) {
                if (sameRow(e, unmatched.get(i))) {
                    at = i;
                }
            }
            if (at < 0) {
                out.add("reference row missing: " + String.join("|", e));
            } else {
                unmatched.remove(at);
            }
        }
        if (q.limitDropped() == 0 || expected.size() < q.limitDropped()) {
            unmatched.forEach(a -> out.add("row not in the reference: " + String.join("|", a)));
        }
        return out;
    }

    private static boolean sameRow(List<String> expected, List<String> actual) {
        if (expected.size() != actual.size()) {
            return false;
        }
        for (int i = 0; i < expected.size(); i++) {
            String e = expected.get(i);
            String a = actual.get(i);
            if (!e.equals(a) && !sameNumber(e, a)) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameNumber(String expected, String actual) {
        try {
            BigDecimal e = new BigDecimal(expected);
            BigDecimal a = new BigDecimal(actual);
            return a.subtract(e).abs().compareTo(BigDecimal.ONE.movePointLeft(Math.max(0, e.scale()))) <= 0;
        } catch (NumberFormatException notANumber) {
            return false;
        }
    }
}
