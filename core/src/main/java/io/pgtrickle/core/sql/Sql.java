package io.pgtrickle.core.sql;

import io.pgtrickle.core.api.PgtException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The single place where identifiers and string literals become SQL text.
 *
 * <p>Identifiers are always quoted (never conditionally), literals are always written as
 * {@code E'...'} with backslashes and quotes escaped, which is correct whatever
 * {@code standard_conforming_strings} says.
 */
public final class Sql {
    private Sql() {
    }

    /**
     * A column reference as PostgreSQL prints one: a name, bare or double-quoted, qualified by up to
     * two more ({@code x}, {@code t.x}, {@code "S"."T"."x"}). Text that matches it is a column (or a
     * parameterless keyword function such as {@code current_date}), never an expression.
     */
    public static final java.util.regex.Pattern COLUMN_REFERENCE = java.util.regex.Pattern.compile(
            "(?:[A-Za-z_][\\w$]*|\"(?:[^\"]|\"\")+\")(?:\\.(?:[A-Za-z_][\\w$]*|\"(?:[^\"]|\"\")+\")){0,2}");

    public static String quoteIdent(String ident) {
        return '"' + ident.replace("\"", "\"\"") + '"';
    }

    public static String ident(Ident id) {
        return id.quoted();
    }

    public static String literal(String value) {
        if (value == null) {
            return "NULL";
        }
        if (value.indexOf('\0') >= 0) {
            throw PgtException.invalidArgument("string contains a NUL character", null);
        }
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    public static String identList(List<Ident> idents) {
        return idents.stream().map(Ident::quoted).collect(Collectors.joining(", "));
    }

    /** The name as a user would type it: bare when it is a plain lower-case identifier. */
    public static String displayIdent(String ident) {
        return ident.matches("[a-z_][a-z0-9_$]*") ? ident : quoteIdent(ident);
    }
}
