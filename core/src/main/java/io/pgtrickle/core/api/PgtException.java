package io.pgtrickle.core.api;

import java.sql.SQLException;
import java.util.Objects;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The one exception type of the engine: a code, a message a user can act on, and a hint.
 *
 * <p>Errors that come from PostgreSQL keep the server's SQLSTATE, message, hint and (for
 * syntax errors) the position in the statement, so the CLI can print them without a stack trace.
 */
public class PgtException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final String sqlState;
    private final String hint;

    public PgtException(ErrorCode code, String message, String hint) {
        this(code, code.sqlState(), message, hint, null);
    }

    public PgtException(ErrorCode code, String sqlState, String message, String hint, Throwable cause) {
        super(Objects.requireNonNull(message), cause);
        this.code = Objects.requireNonNull(code);
        this.sqlState = sqlState == null ? code.sqlState() : sqlState;
        this.hint = hint;
    }

    public ErrorCode code() {
        return code;
    }

    /** The SQLSTATE: the server's own for {@link ErrorCode#DATABASE_ERROR}, else the code's. */
    public String sqlState() {
        return sqlState;
    }

    /** What the user can do about it; may be null. */
    public String hint() {
        return hint;
    }

    public boolean retryable() {
        return RetryPolicy.retryable(sqlState);
    }

    public static PgtException invalidName(String name, String why) {
        return new PgtException(ErrorCode.INVALID_NAME, "invalid name " + quoteForMessage(name) + ": " + why,
                "Use 'table' or 'schema.table'; quote names with upper case or special characters as \"Name\".");
    }

    public static PgtException notFound(String name) {
        return new PgtException(ErrorCode.STREAM_TABLE_NOT_FOUND, "stream table not found: " + name,
                "List stream tables with 'pgtrickle list' or SELECT * FROM pgtrickle.pgt_stream_tables.");
    }

    public static PgtException invalidArgument(String message, String hint) {
        return new PgtException(ErrorCode.INVALID_ARGUMENT, message, hint);
    }

    public static PgtException internal(String message, Throwable cause) {
        return new PgtException(ErrorCode.INTERNAL_ERROR, null, "internal error: " + message,
                "This is a bug in pg_trickle; please report it with the statement that caused it.", cause);
    }

    /**
     * Translates a server error into the engine's vocabulary, keeping SQLSTATE, hint and position.
     *
     * @param context what the engine was doing, e.g. "creating stream table s.t"; may be null
     */
    public static PgtException fromSql(SQLException e, String context) {
        String state = e.getSQLState();
        String message = e.getMessage();
        String hint = null;
        if (e instanceof PSQLException pe && pe.getServerErrorMessage() != null) {
            ServerErrorMessage sem = pe.getServerErrorMessage();
            message = sem.getMessage();
            hint = sem.getHint() == null || sem.getHint().isBlank() ? null : sem.getHint();
            if (sem.getDetail() != null && !sem.getDetail().isBlank()) {
                message = message + " (" + sem.getDetail() + ")";
            }
        }
        if (state != null && (state.startsWith("08") || state.startsWith("28") || state.equals("3D000")
                || state.equals("57P03"))) {
            return new PgtException(ErrorCode.CONNECTION_FAILED, state, withContext(context, message),
                    "Check that PostgreSQL is running and that --url (or PGTRICKLE_URL) points at it.", e);
        }
        ErrorCode code = state == null ? ErrorCode.DATABASE_ERROR : switch (state) {
            case "42601" -> ErrorCode.QUERY_SYNTAX;
            case "42P01" -> ErrorCode.UNDEFINED_TABLE;
            case "42703" -> ErrorCode.UNDEFINED_COLUMN;
            case "42883" -> ErrorCode.UNDEFINED_FUNCTION;
            case "42501" -> ErrorCode.PERMISSION_DENIED;
            case "22023" -> ErrorCode.INVALID_ARGUMENT;
            case "2BP01" -> ErrorCode.DEPENDENT_OBJECTS_EXIST;
            case "0A000" -> ErrorCode.UNSUPPORTED_QUERY;
            case "55000" -> ErrorCode.INVALID_STATE;
            default -> ErrorCode.DATABASE_ERROR;
        };
        return new PgtException(code, state, withContext(context, message), hint, e);
    }

    private static String withContext(String context, String message) {
        return context == null ? message : context + ": " + message;
    }

    static String quoteForMessage(String s) {
        return s == null ? "NULL" : "'" + s + "'";
    }
}
