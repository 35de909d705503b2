package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.Operator;
import java.util.ArrayList;
import java.util.List;

/**
 * Renderings of a compiled query for {@code explain}: text for people, JSON for tools, DOT for
 * pictures. Computed once at compile time and stored in the catalog.
 */
public final class Explain {
    private Explain() {
    }

    public static String text(String streamTable, String mode, CompiledQuery q, String applySql) {
        StringBuilder b = new StringBuilder();
        b.append("stream table ").append(streamTable).append('\n');
        b.append("refresh mode: ").append(mode).append('\n');
        b.append("row identity: ").append(!q.rowKey().isEmpty()
                ? "hash of " + String.join(", ", q.rowKey())
                        + " (rows unique by a source's primary key: a changed row is updated in place)"
                : shapeText(q.shape())).append('\n');
        if (!q.differential()) {
            b.append("differential: not possible: ").append(q.unsupported()).append('\n');
        }
        if (q.root() != null) {
            b.append("operators:\n");
            tree(q.root(), 1, b, q.rootStrategy(applySql));
        }
        if (applySql != null) {
            b.append("differential refresh SQL ($1 = refresh snapshot, $2 = previous frontier, $3 = sources with changes):\n  ")
                    .append(applySql).append('\n');
        }
        return b.toString();
    }

    private static void tree(Operator op, int depth, StringBuilder b, String strategy) {
        b.append("  ".repeat(depth)).append("-> ").append(op.describe()).append("  [")
                .append(strategy != null ? strategy : op.strategy()).append("]\n");
        for (Operator in : op.inputs()) {
            tree(in, depth + 1, b, null);
        }
    }

    public static String json(String streamTable, String mode, CompiledQuery q, String applySql) {
        return "{\"stream_table\":" + str(streamTable) + ",\"refresh_mode\":" + str(mode)
                + ",\"shape\":" + str(q.shape().name()) + ",\"differential\":" + q.differential()
                + ",\"unsupported_reason\":" + str(q.unsupported())
                + ",\"operators\":" + (q.root() == null ? "null" : node(q.root(), q.rootStrategy(applySql)))
                + ",\"differential_sql\":" + str(applySql) + "}";
    }

    private static String node(Operator op, String strategy) {
        List<String> inputs = new ArrayList<>();
        for (Operator in : op.inputs()) {
            inputs.add(node(in, null));
        }
        return "{\"operator\":" + str(op.getClass().getSimpleName()) + ",\"description\":" + str(op.describe())
                + ",\"strategy\":" + str(strategy != null ? strategy : op.strategy()) + ",\"inputs\":[" + String.join(",", inputs) + "]}";
    }

    public static String dot(String streamTable, CompiledQuery q) {
        StringBuilder b = new StringBuilder("digraph pgtrickle {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n");
        b.append("  st [label=").append(str(streamTable + "\n" + q.shape())).append(", shape=cylinder];\n");
        if (q.root() != null) {
            int[] counter = {0};
            String root = dotNode(q.root(), b, counter);
            b.append("  ").append(root).append(" -> st;\n");
        }
        return b.append("}\n").toString();
    }

    private static String dotNode(Operator op, StringBuilder b, int[] counter) {
        String id = "n" + counter[0]++;
        b.append("  ").append(id).append(" [label=").append(str(op.describe() + "\n[" + op.strategy() + "]")).append("];\n");
        for (Operator in : op.inputs()) {
            String child = dotNode(in, b, counter);
            b.append("  ").append(child).append(" -> ").append(id).append(";\n");
        }
        return id;
    }

    private static String shapeText(Shape s) {
        return switch (s) {
            case MULTISET -> "content hash + ordinal among equal rows (duplicates kept)";
            case DISTINCT -> "content hash, with reference count __pgt_count";
            case AGGREGATE -> "hash of the GROUP BY key";
            case PARTITIONED -> "content and partition hash + ordinal among equal rows; partitions found by __pgt_part<j>";
        };
    }

    /** A JSON string literal; DOT accepts the same escapes. */
    static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
