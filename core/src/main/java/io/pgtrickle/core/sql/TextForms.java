package io.pgtrickle.core.sql;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which types print equal values alike. Where they do, values can be compared, grouped and hashed
 * by the type's equality without losing a difference a user would see in the stored text; where
 * they do not (numeric 1.0 = 1.00, float 0 = -0, interval '1 day' = '24 hours', jsonb 1.0 = 1.00),
 * the engine compares text, or refuses an operation that would keep whichever text it read first.
 * Text of a nondeterministic collation ('a' = 'A') is the caller's to rule out: the type name does
 * not say it.
 */
public final class TextForms {
    /** Built-in types, as format_type prints them without a type modifier. */
    private static final Set<String> ONE_TEXT = Set.of("smallint", "integer", "bigint", "boolean", "text", "character varying",
            "character", "\"char\"", "name", "date", "timestamp without time zone", "timestamp with time zone",
            "time without time zone", "uuid", "bytea", "oid", "money");
    /** numeric with a declared scale prints every value at that scale. */
    private static final Pattern SCALED_NUMERIC = Pattern.compile("numeric\\(\\d+,\\d+\\)");
    private static final Pattern TYPE_MODIFIER = Pattern.compile("\\(\\d+\\)");
    /** The types of ONE_TEXT that have a collation. */
    private static final Set<String> COLLATABLE = Set.of("text", "character varying", "character", "name");

    private TextForms() {
    }

    /** Whether {@code formattedType} is one of the built-in string types, which compare under a collation. */
    public static boolean collatable(String formattedType) {
        return COLLATABLE.contains(TYPE_MODIFIER.matcher(formattedType).replaceAll(""));
    }

    /** Whether equal values of {@code formattedType} (format_type's text) always print alike. */
    public static boolean oneText(String formattedType) {
        return ONE_TEXT.contains(TYPE_MODIFIER.matcher(formattedType).replaceAll(""))
                || SCALED_NUMERIC.matcher(formattedType).matches();
    }
}
