package io.pgtrickle.core.dvm.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * The row-identity hash, written once. Types with a hash opclass are hashed by value
 * (hash_record_extended); others (json, point ...) through their text form.
 */
final class RowHash {
    /** Identity of the single row of an aggregate without GROUP BY. */
    static final String SINGLETON = "hashtextextended('pgtrickle:singleton', 0)";

    private RowHash() {
    }

    /** "(e0) AS n0, (e1) AS n1": expressions as written, under the engine's column names. */
    static String aliased(List<String> expressions, List<String> names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < expressions.size(); i++) {
            out.add("(" + expressions.get(i) + ") AS " + names.get(i));
        }
        return String.join(", ", out);
    }

    static String of(List<String> expressions, List<Boolean> hashable) {
        if (expressions.isEmpty()) {
            return SINGLETON;
        }
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < expressions.size(); i++) {
            parts.add(hashable.get(i) ? expressions.get(i) : "(" + expressions.get(i) + ")::text");
        }
        return "hash_record_extended(ROW(" + String.join(", ", parts) + "), 0)";
    }
}
