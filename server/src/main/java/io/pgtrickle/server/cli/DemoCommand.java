package io.pgtrickle.server.cli;

import io.pgtrickle.server.demo.Demo;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", description = "Run a live demo on an embedded PostgreSQL 18 (needs only Java 17).",
        footer = {"%nA small shop, four stream tables, a write workload and the refreshes as they happen;",
                "ends by checking every stream table against its defining query."})
final class DemoCommand extends BaseCommand {
    @Option(names = "--duration", defaultValue = "20", paramLabel = "SECONDS",
            description = "How long the write workload runs (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--rate", defaultValue = "50", paramLabel = "N",
            description = "Write statements per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--plain", description = "One line per refresh instead of a redrawn screen (automatic when not on a terminal).")
    boolean plain;

    @Override
    protected int execute() throws Exception {
        if (seconds < 1 || seconds > 3600 || rate < 1 || rate > 10_000) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--duration must be 1-3600 seconds and --rate 1-10000 statements per second");
        }
        boolean interactive = !plain && System.console() != null;
        Demo.Summary s = new Demo(spec.commandLine().getOut())
                .run(new Demo.Options(Duration.ofSeconds(seconds), rate, interactive));
        return s.consistent() ? ExitCode.OK : ExitCode.INTERNAL;
    }
}
