package io.pgtrickle.core.sql;

import io.pgtrickle.core.api.PgtException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A schema-qualified relation name as a user writes it: {@code table}, {@code schema.table},
 * {@code "Mixed Case"."we.ird"}. Unquoted parts are folded to lower case as PostgreSQL does;
 * unlike the original, quoted parts may contain dots.
 *
 * @param schema null when the user gave no schema (resolved later against the search path)
 */
public record QualifiedName(Ident schema, Ident name) {

    public static QualifiedName parse(String input) {
        if (input == null || input.isBlank()) {
            throw PgtException.invalidName(input, "empty name");
        }
        List<String> parts = new ArrayList<>();
        String s = input.strip();
        int i = 0;
        while (true) {
            StringBuilder part = new StringBuilder();
            if (i < s.length() && s.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < s.length()) {
                    char c = s.charAt(i++);
                    if (c == '"') {
                        if (i < s.length() && s.charAt(i) == '"') {
                            part.append('"');
                            i++;
                        } else {
                            closed = true;
                            break;
                        }
                    } else {
                        part.append(c);
                    }
                }
                if (!closed) {
                    throw PgtException.invalidName(input, "unterminated quoted identifier");
                }
            } else {
                int start = i;
                while (i < s.length() && s.charAt(i) != '.') {
                    i++;
                }
                String raw = s.substring(start, i);
                if (!raw.matches("[A-Za-z_\\p{L}][A-Za-z0-9_$\\p{L}]*")) {
                    throw PgtException.invalidName(input,
                            raw.isEmpty() ? "empty name part" : "'" + raw + "' is not a valid unquoted identifier");
                }
                part.append(raw.toLowerCase(Locale.ROOT));
            }
            parts.add(part.toString());
            if (i == s.length()) {
                break;
            }
            if (s.charAt(i) != '.') {
                throw PgtException.invalidName(input, "unexpected character '" + s.charAt(i) + "'");
            }
            i++;
            if (i == s.length()) {
                throw PgtException.invalidName(input, "ends with a dot");
            }
        }
        if (parts.size() > 2) {
            throw PgtException.invalidName(input, "too many dots: use schema.table");
        }
        return parts.size() == 1
                ? new QualifiedName(null, new Ident(parts.get(0)))
                : new QualifiedName(new Ident(parts.get(0)), new Ident(parts.get(1)));
    }

    public static QualifiedName of(String schema, String name) {
        return new QualifiedName(new Ident(schema), new Ident(name));
    }

    public QualifiedName withSchema(String defaultSchema) {
        return schema != null ? this : new QualifiedName(new Ident(defaultSchema), name);
    }

    /** Quoted, qualified when a schema is known. */
    public String quoted() {
        return schema == null ? name.quoted() : schema.quoted() + "." + name.quoted();
    }

    /** Human form: parts quoted only where needed. */
    public String display() {
        return schema == null ? Sql.displayIdent(name.text()) : Sql.displayIdent(schema.text()) + "." + Sql.displayIdent(name.text());
    }

    @Override
    public String toString() {
        return display();
    }
}
