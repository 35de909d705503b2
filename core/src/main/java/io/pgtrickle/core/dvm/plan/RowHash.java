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

    /**
     * Identity of the {@code ordinal}-th of equal rows (from 0) with content hash {@code hash}. The
     * content hash keeps all its 64 bits (hashint8extended would fold it to 32 first, and at a few
     * hundred thousand rows two contents would share an identity); the ordinal is hashed with a seed
     * of its own, since with seed 0 the hash of a small ordinal equals the content hash of a
     * one-integer row (ROW(1) at ordinal 1 and ROW(0) at ordinal 0 both gave 0).
     */
    static String ordinal(String hash, String ordinal) {
        return "(" + hash + " # hashint8extended((" + ordinal + ")::bigint, " + ORDINAL_SEED + "))";
    }

    /** 'pgtrickl' in ASCII. */
    private static final long ORDINAL_SEED = 0x7067747269636b6cL;

    /** How one value enters an identity hash. */
    enum Form {
        /** By value: the type's own hash keeps every bit and tells apart what equality does. */
        VALUE,
        /** Through its text: no hash opclass, a hash folded to 32 bits, or (multiset) numeric's and jsonb's scale. */
        TEXT,
        /**
         * Numeric as a key: equal values must hash alike whatever their scale (1.0 = 1.00), but
         * PostgreSQL's numeric hash ignores the sign (1 and -1 collide); its text after trim_scale
         * has neither problem.
         */
        NUMERIC,
        /**
         * Timestamps: their text depends on the session (TimeZone, DateStyle), the number of
         * seconds they stand for does not. (Their own hash folds them to 32 bits.)
         */
        EPOCH,
        /**
         * Interval as a key: equal intervals print differently ('1 day' and '24 hours', '1 mon' and
         * '30 days'), and equality counts a month as 30 days, so by its span in seconds counted that
         * way (its epoch counts a year as 365.25 days: '1 year' and '365 days 6 hours' are unequal
         * with one epoch); an infinite one by its epoch, ±Infinity.
         */
        INTERVAL_SPAN,
        /**
         * Interval as a row of a multiset: '1 day' and '24 hours' are different rows to store, so by
         * its fields as stored (months, days, time), which unlike its text do not depend on IntervalStyle.
         */
        INTERVAL_FIELDS,
        /**
         * Text in a nondeterministic collation, as a row of a multiset: by its bytes, since 'red'
         * and 'RED' are equal there but different rows to store (its collation's hash would make
         * them one identity, and a change of case would net out).
         */
        BYTES,
        /**
         * A float as a row of a multiset: by its bits, since 0 and -0 are equal (and hash alike) but
         * print differently; its text would depend on extra_float_digits.
         */
        FLOAT_BITS
    }

    /**
     * Types with a hash opclass whose equal values print differently, as rows of a multiset: their
     * equality ('A' = 'a' in citext, [1.0,2) = [1.00,2) in numrange, {1.0} = {1.00} in numeric[])
     * would let a change of a row to an equal-but-different value net out, leaving the old text
     * stored. Hashed through their text, which depends on no session setting (a float array's only
     * on extra_float_digits at 0 or below).
     */
    private static final java.util.Set<String> COARSE_EQUALITY = java.util.Set.of("citext", "numrange", "nummultirange",
            "citext[]", "numeric[]", "double precision[]", "real[]", "numrange[]");

    /** Types whose text is one per value (no two equal values print differently, whatever the session). */
    private static final java.util.Set<String> CANONICAL_TEXT = java.util.Set.of("bigint",
            "time without time zone", "time with time zone", "money", "xid8", "pg_lsn");

    /** Types whose text depends on TimeZone or DateStyle: hashed by their epoch, which does not. */
    private static final java.util.Set<String> TIMESTAMPS = java.util.Set.of("timestamp without time zone",
            "timestamp with time zone");

    /**
     * The form of a partition key of {@code type} (pgtrickle._type_hashable(type, true) is
     * {@code hashable}), in which equal keys hash alike and unequal ones collide no more than row
     * identities do; null when there is none.
     */
    static Form partitionForm(String type, boolean hashable) {
        String base = base(type);
        if (base.equals("numeric")) {
            return Form.NUMERIC;
        }
        if (isInterval(type)) {
            return Form.INTERVAL_SPAN;
        }
        if (TIMESTAMPS.contains(base)) {
            return Form.EPOCH;
        }
        if (CANONICAL_TEXT.contains(base)) {
            return Form.TEXT;
        }
        return hashable ? Form.VALUE : null;
    }

    /**
     * The form for a value of {@code type}; {@code hashable} is pgtrickle._type_hashable(type, true);
     * {@code scaleSensitive} for rows of a multiset, where 2 and 2.0 are different rows to store.
     */
    static Form form(String type, boolean hashable, boolean scaleSensitive) {
        return form(type, hashable, scaleSensitive, true);
    }

    /** As {@link #form(String, boolean, boolean)}, for a value whose collation may be nondeterministic. */
    static Form form(String type, boolean hashable, boolean scaleSensitive, boolean deterministic) {
        if (scaleSensitive && !deterministic) {
            return Form.BYTES;
        }
        String base = base(type);
        if (TIMESTAMPS.contains(base)) {
            return Form.EPOCH; // exact too: two timestamps print alike exactly when they are equal
        }
        if (isInterval(type)) {
            return scaleSensitive ? Form.INTERVAL_FIELDS : Form.INTERVAL_SPAN;
        }
        if (base.equals("numeric")) {
            return scaleSensitive ? Form.TEXT : Form.NUMERIC;
        }
        if (scaleSensitive && type.equals("jsonb")) {
            return Form.TEXT; // its numbers keep their scale too: '{"n": 1}' = '{"n": 1.00}', printed as written
        }
        if (scaleSensitive && (base.equals("double precision") || base.equals("real"))) {
            return Form.FLOAT_BITS;
        }
        if (scaleSensitive && COARSE_EQUALITY.contains(base)) {
            return Form.TEXT;
        }
        return hashable ? Form.VALUE : Form.TEXT;
    }

    /**
     * NULL-safe equality of two lists of group keys, as a join condition: their hashes first, an
     * equality PostgreSQL can hash-join on (IS NOT DISTINCT FROM alone makes a nested loop over
     * every pair of groups), then the keys themselves.
     */
    static String sameKeys(List<String> left, List<String> right, List<Form> forms) {
        StringBuilder b = new StringBuilder(of(left, forms)).append(" = ").append(of(right, forms));
        for (int i = 0; i < left.size(); i++) {
            b.append(" AND ").append(left.get(i)).append(" IS NOT DISTINCT FROM ").append(right.get(i));
        }
        return b.toString();
    }

    /** {@code type} without its modifier: numeric(10,2) is numeric, timestamp(3) with time zone is timestamp with time zone. */
    private static String base(String type) {
        return type.replaceFirst("\\([^)]*\\)", "");
    }

    /** interval, with a precision or fields ({@code interval day to second(3)}), not an array of them. */
    private static boolean isInterval(String type) {
        return type.startsWith("interval") && !type.endsWith("]");
    }

    private static String field(String name, String e) {
        return "extract(" + name + " FROM " + e + ")";
    }

    static String of(List<String> expressions, List<Form> forms) {
        if (expressions.isEmpty()) {
            return SINGLETON;
        }
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < expressions.size(); i++) {
            String e = expressions.get(i);
            parts.add(switch (forms.get(i)) {
                case VALUE -> e;
                case TEXT -> "(" + e + ")::text";
                case NUMERIC -> "trim_scale(" + e + ")::text";
                case EPOCH -> "trim_scale(" + field("epoch", e) + ")::text";
                // the epoch counts a year as 365.25 days, equality as 360: 5.25 days (453,600 s) less per year
                case INTERVAL_SPAN -> "trim_scale(CASE WHEN isfinite(" + e + ") THEN " + field("epoch", e) + " - "
                        + field("year", e) + " * 453600 ELSE " + field("epoch", e) + " END)::text";
                // years, months and days as stored; with them the epoch fixes the time
                case INTERVAL_FIELDS -> "ROW(" + field("year", e) + ", " + field("month", e) + ", " + field("day", e) + ", "
                        + field("epoch", e) + ")::text";
                case BYTES -> "(" + e + ")::text COLLATE \"C\"";
                case FLOAT_BITS -> "float8send((" + e + ")::double precision)";
            });
        }
        return "hash_record_extended(ROW(" + String.join(", ", parts) + "), 0)";
    }
}
