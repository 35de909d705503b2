package io.pgtrickle.server.cli;

/**
 * Exit codes of the {@code pgtrickle} command; scripts may rely on them.
 *
 * <table>
 *   <caption>Exit codes</caption>
 *   <tr><th>Code</th><th>Meaning</th><th>Typical causes</th></tr>
 *   <tr><td>{@value #OK}</td><td>success</td><td></td></tr>
 *   <tr><td>{@value #ERROR}</td><td>the database reported an error</td>
 *       <td>lock timeout, disk full, any server error that is neither the user's nor the engine's fault</td></tr>
 *   <tr><td>{@value #USAGE}</td><td>invalid input: fix the command line and try again</td>
 *       <td>unknown option, missing argument, no {@code --url}, bad schedule or mode, SQL syntax error in the
 *       query, catalog not installed; every {@code PgtException} whose fault is USER</td></tr>
 *   <tr><td>{@value #NOT_FOUND}</td><td>the named stream table does not exist</td><td></td></tr>
 *   <tr><td>{@value #UNAVAILABLE}</td><td>cannot connect to the database</td>
 *       <td>server down or unreachable, authentication failed, database does not exist</td></tr>
 *   <tr><td>{@value #INTERNAL}</td><td>a fault of pg_trickle itself (sysexits' EX_SOFTWARE)</td>
 *       <td>a bug, or a feature that is planned but not built yet; rerun with {@code --verbose} for a stack
 *       trace</td></tr>
 * </table>
 *
 * <p>Not-found and unavailable get codes of their own because scripts react to them differently from other
 * errors: create what is missing, or wait and retry.
 */
public final class ExitCode {
    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int USAGE = 2;
    public static final int NOT_FOUND = 3;
    public static final int UNAVAILABLE = 4;
    public static final int INTERNAL = 70;

    private ExitCode() {
    }
}
