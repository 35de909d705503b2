package io.pgtrickle.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every subcommand shares: {@code --help}, {@code --version}, {@code --json}, {@code --verbose}, and the
 * writers the {@link Cli} factory was given. Commands that need no database (e.g. a demo) extend this directly.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = VersionProvider.class, sortOptions = false,
        usageHelpAutoWidth = true)
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    OutputOptions outputOptions;

    private Output output;

    @Override
    public final Integer call() throws Exception {
        Logging.configure(outputOptions.verbose);
        return execute();
    }

    /** Runs the command; returns an {@link ExitCode}, or throws for {@link ErrorHandler} to report. */
    protected abstract int execute() throws Exception;

    boolean verbose() {
        return outputOptions != null && outputOptions.verbose;
    }

    Output output() {
        if (output == null) {
            output = new Output(spec.commandLine().getOut(), spec.commandLine().getErr(), outputOptions.json);
        }
        return output;
    }
}
