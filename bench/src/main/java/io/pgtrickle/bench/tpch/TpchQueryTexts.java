package io.pgtrickle.bench.tpch;

import java.util.ArrayList;
import java.util.List;

/**
 * The 22 TPC-H queries as TpchTest uses them ({@code tpch/qNN.sql} of core's test resources, each
 * starting with a comment naming its parameters and adaptations; docs/TPCH.md).
 */
public final class TpchQueryTexts {
    /** @param name q01 … q22; @param title from the first line of its comment, e.g. "TPC-H Q17, small-quantity-order revenue" */
    public record Query(String name, String title, String sql) {
    }

    private TpchQueryTexts() {
    }

    public static List<Query> all() {
        List<Query> out = new ArrayList<>();
        for (int i = 1; i <= 22; i++) {
            out.add(load(String.format("q%02d", i)));
        }
        return out;
    }

    static Query load(String name) {
        String text = TpchData.resource("tpch/" + name + ".sql");
        StringBuilder sql = new StringBuilder();
        String title = name;
        for (String line : text.split("\n")) {
            if (sql.length() == 0 && line.startsWith("--")) {
                if (title.equals(name)) { // "-- TPC-H Q17, small-quantity-order revenue. Validation parameters: ..."
                    title = line.substring(2).strip().replaceFirst("\\. .*$", "").replaceFirst("\\.$", "");
                }
            } else {
                sql.append(line).append('\n');
            }
        }
        return new Query(name, title, sql.toString().strip());
    }
}
