package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.api.StreamTables;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "alter", description = "Change the schedule, refresh mode or status of a stream table.")
final class AlterCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The stream table: 'table' or 'schema.table'.")
    String name;

    @Option(names = "--schedule", paramLabel = "S", description = "A duration, a cron expression or 'calculated'.")
    String schedule;

    @Option(names = "--mode", paramLabel = "MODE", description = "AUTO, FULL, DIFFERENTIAL or IMMEDIATE.")
    String mode;

    @Option(names = "--status", paramLabel = "STATUS",
            description = "ACTIVE or PAUSED (use 'resume' for SUSPENDED or ERROR stream tables).")
    String status;

    @Override
    protected int run(StreamTables db) {
        AlterOptions options = new AlterOptions(schedule,
                mode == null ? null : RefreshMode.parse(mode),
                status == null ? null : Status.parseSettable(status));
        List<String> notices = db.alter(name, options);
        notices.forEach(output()::notice);
        // Read back: show what the stream table looks like now, not what was asked for.
        StreamTableInfo st = db.get(name);
        if (output().json()) {
            output().json(new JsonViews.Altered(JsonViews.StreamTable.of(st), notices));
        } else {
            output().line("altered stream table " + st.qualifiedName() + " (" + Format.settings(st) + ")");
        }
        return ExitCode.OK;
    }
}
