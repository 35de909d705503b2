package io.pgtrickle.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The top-level {@code pgtrickle} command: only dispatches to its subcommands. */
@Command(name = "pgtrickle", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        usageHelpAutoWidth = true,
        description = "Stream tables for PostgreSQL: materialized views kept up to date by pg_trickle.",
        // The one registry of subcommands, in the order --help lists them: a new command is one line here.
        subcommands = {
            DemoCommand.class,
            ServeCommand.class,
            InstallCommand.class,
            CreateCommand.class,
            AlterCommand.class,
            ResumeCommand.class,
            DropCommand.class,
            RefreshCommand.class,
            ExplainCommand.class,
            ListCommand.class,
            StatusCommand.class,
            HistoryCommand.class,
            HelpCommand.class,
        },
        footerHeading = "%nEnvironment:%n",
        footer = "  " + ConnectionOptions.URL_ENV + "   JDBC URL used when --url is not given",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            ExitCode.OK + ":success",
            ExitCode.ERROR + ":database error",
            ExitCode.USAGE + ":invalid command line or input",
            ExitCode.NOT_FOUND + ":stream table not found",
            ExitCode.UNAVAILABLE + ":cannot connect to the database",
            ExitCode.INTERNAL + ":internal error in pg_trickle",
        })
final class PgTrickleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Without a subcommand there is nothing to do: show what there is, and fail so scripts notice. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("error: missing command");
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE;
    }
}
