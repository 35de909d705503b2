package io.pgtrickle.core.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** A view's definition as PostgreSQL prints it back, with every name schema-qualified. */
public final class ViewText {
    private ViewText() {
    }

    /**
     * pg_get_viewdef qualifies exactly the names not visible on the search path, so it is called
     * with a search path of pg_catalog alone (restored afterwards, also on error).
     */
    public static String qualifiedDefinition(Connection conn, long viewOid) throws SQLException {
        try (PreparedStatement set = conn.prepareStatement(
                     "SELECT current_setting('search_path'), set_config('search_path', 'pg_catalog', true)");
             PreparedStatement def = conn.prepareStatement("SELECT pg_get_viewdef(?::oid, false)");
             PreparedStatement restore = conn.prepareStatement("SELECT set_config('search_path', ?, true)")) {
            String saved;
            try (ResultSet rs = set.executeQuery()) {
                rs.next();
                saved = rs.getString(1);
            }
            try {
                def.setLong(1, viewOid);
                try (ResultSet rs = def.executeQuery()) {
                    rs.next();
                    String text = rs.getString(1).strip();
                    return text.endsWith(";") ? text.substring(0, text.length() - 1) : text;
                }
            } finally {
                restore.setString(1, saved);
                restore.executeQuery().close();
            }
        }
    }
}
