package io.pgtrickle.core.api;

/**
 * Every error the engine reports, with the SQLSTATE it carries and whose fault it is.
 *
 * <p>The SQLSTATEs follow the original extension's choices (sql-api.md §6.1) so that scripts
 * written against it keep working; retries are decided from SQLSTATE alone ({@link RetryPolicy}).
 */
public enum ErrorCode {
    INVALID_NAME("42602", Fault.USER),
    QUERY_SYNTAX("42601", Fault.USER),
    QUERY_INVALID("42000", Fault.USER),
    UNDEFINED_TABLE("42P01", Fault.USER),
    UNDEFINED_COLUMN("42703", Fault.USER),
    UNDEFINED_FUNCTION("42883", Fault.USER),
    STREAM_TABLE_NOT_FOUND("42P01", Fault.USER),
    ALREADY_EXISTS("42P07", Fault.USER),
    INVALID_ARGUMENT("22023", Fault.USER),
    INVALID_SCHEDULE("22023", Fault.USER),
    INVALID_REFRESH_MODE("22023", Fault.USER),
    CYCLE_DETECTED("3F000", Fault.USER),
    DEPENDENT_OBJECTS_EXIST("2BP01", Fault.USER),
    VOLATILE_FUNCTION("0A000", Fault.USER),
    UNSUPPORTED_QUERY("0A000", Fault.USER),
    /** Legal and planned, but not built yet; reported like invalid input, since the user must choose otherwise. */
    NOT_IMPLEMENTED("0A000", Fault.USER),
    PERMISSION_DENIED("42501", Fault.USER),
    INVALID_STATE("55000", Fault.USER),
    CATALOG_NOT_INSTALLED("55000", Fault.USER),
    CATALOG_TOO_NEW("55000", Fault.USER),
    CONNECTION_FAILED("08001", Fault.SYSTEM),
    /** Any other error raised by the server; the SQLSTATE is the server's own. */
    DATABASE_ERROR("XX000", Fault.SYSTEM),
    INTERNAL_ERROR("XX000", Fault.ENGINE);

    /** Whose fault an error is: decides the wording and whether a retry can help. */
    public enum Fault { USER, SYSTEM, ENGINE }

    private final String sqlState;
    private final Fault fault;

    ErrorCode(String sqlState, Fault fault) {
        this.sqlState = sqlState;
        this.fault = fault;
    }

    public String sqlState() {
        return sqlState;
    }

    public Fault fault() {
        return fault;
    }
}
