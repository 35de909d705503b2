package io.pgtrickle.core.sql;

import io.pgtrickle.core.api.PgtException;
import java.nio.charset.StandardCharsets;

/** A PostgreSQL identifier as stored in the catalog (already case-folded): validated once, always quoted. */
public record Ident(String text) {
    /** NAMEDATALEN - 1: PostgreSQL silently truncates longer names, which would alias distinct objects. */
    public static final int MAX_BYTES = 63;

    public Ident {
        if (text == null || text.isEmpty()) {
            throw PgtException.invalidName(text, "empty identifier");
        }
        if (text.indexOf('\0') >= 0) {
            throw PgtException.invalidName(text, "contains a NUL character");
        }
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw PgtException.invalidName(text, "longer than " + MAX_BYTES + " bytes");
        }
    }

    public static Ident of(String text) {
        return new Ident(text);
    }

    /** The quoted form, safe to splice into SQL. */
    public String quoted() {
        return Sql.quoteIdent(text);
    }

    @Override
    public String toString() {
        return quoted();
    }
}
