package io.pgtrickle.server.cli;

import java.io.PrintWriter;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Builds the {@code pgtrickle} command line; tests pass their own writers and environment and assert on both
 * streams and the exit code.
 */
public final class Cli {
    private Cli() {
    }

    public static CommandLine create(PrintWriter out, PrintWriter err) {
        return create(out, err, System::getenv);
    }

    /** @param env environment lookup, {@code System::getenv} in production */
    public static CommandLine create(PrintWriter out, PrintWriter err, Function<String, String> env) {
        ErrorHandler errors = new ErrorHandler();
        CommandLine cl = new CommandLine(new PgTrickleCommand());
        // These setters reach every subcommand registered so far, which is all of them.
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(errors);
        cl.setParameterExceptionHandler(errors);
        cl.setExitCodeExceptionMapper(errors);
        cl.setDefaultValueProvider(environmentDefaults(env));
        return cl;
    }

    /** Runs one command line and returns its {@link ExitCode}. */
    public static int run(PrintWriter out, PrintWriter err, Function<String, String> env, String... args) {
        try {
            return create(out, err, env).execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static IDefaultValueProvider environmentDefaults(Function<String, String> env) {
        return arg -> arg instanceof OptionSpec o && o.longestName().equals("--url")
                ? env.apply(ConnectionOptions.URL_ENV) : null;
    }
}
