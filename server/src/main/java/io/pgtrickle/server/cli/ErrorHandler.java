package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IExitCodeExceptionMapper;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The one place where exceptions become messages on stderr and {@link ExitCode exit codes}.
 *
 * <p>Users get {@code error:} and {@code hint:} lines, never a stack trace, unless they ask with
 * {@code --verbose}: the engine's messages are written to be acted on, a trace only hides them.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler, IExitCodeExceptionMapper {

    /** The exit code for any exception a command may end with. */
    static int exitCode(Throwable t) {
        if (t instanceof ParameterException) {
            return ExitCode.USAGE;
        }
        if (!(t instanceof PgtException e)) {
            return ExitCode.INTERNAL;
        }
        if (e.code() == ErrorCode.STREAM_TABLE_NOT_FOUND) {
            return ExitCode.NOT_FOUND;
        }
        if (e.code() == ErrorCode.CONNECTION_FAILED || isConnectionState(e.sqlState())) {
            return ExitCode.UNAVAILABLE;
        }
        return switch (e.code().fault()) {
            case USER -> ExitCode.USAGE;
            case SYSTEM -> ExitCode.ERROR;
            case ENGINE -> ExitCode.INTERNAL;
        };
    }

    /**
     * Core maps only class 08 to CONNECTION_FAILED; a wrong password (class 28), a database that does not
     * exist (3D000) or a server still starting (57P03) also mean "cannot connect" to a user.
     */
    private static boolean isConnectionState(String state) {
        return state != null && (state.startsWith("08") || state.startsWith("28")
                || state.equals("3D000") || state.equals("57P03"));
    }

    @Override
    public int getExitCode(Throwable exception) {
        return exitCode(exception);
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine commandLine, ParseResult parseResult) {
        boolean verbose = commandLine.getCommand() instanceof BaseCommand c && c.verbose();
        print(ex, commandLine.getErr(), verbose);
        return exitCode(ex);
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + ex.getMessage());
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return ExitCode.USAGE;
    }

    static void print(Exception ex, PrintWriter err, boolean verbose) {
        if (ex instanceof PgtException e) {
            // Query errors end with the statement and a caret under the position: keep those lines intact.
            String sqlState = "(SQLSTATE " + e.sqlState() + ")";
            String message = e.getMessage().stripTrailing();
            err.println(message.contains("\n") ? "error: " + message + "\n" + sqlState
                    : "error: " + message + " " + sqlState);
            if (e.hint() != null && !e.hint().isBlank()) {
                err.println("hint: " + e.hint());
            }
        } else {
            err.println("error: internal error: " + ex);
            if (!verbose) {
                err.println("hint: This is a bug in pg_trickle; rerun with --verbose and report the stack trace.");
            }
        }
        if (verbose) {
            ex.printStackTrace(err);
        }
        err.flush();
    }
}
