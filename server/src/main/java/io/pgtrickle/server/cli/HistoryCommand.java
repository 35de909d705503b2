package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.HistoryEntry;
import io.pgtrickle.core.api.StreamTables;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

@Command(name = "history", description = "Recent refreshes, newest first.")
final class HistoryCommand extends DatabaseCommand {
    private static final int REASON_WIDTH = 60;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "One stream table; all if omitted.")
    String name;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20",
            description = "Show at most N refreshes (default: ${DEFAULT-VALUE}).")
    int limit;

    @Override
    protected int run(StreamTables db) {
        if (limit < 1) {
            throw new ParameterException(spec.commandLine(), "--limit must be at least 1, got " + limit);
        }
        List<HistoryEntry> entries = db.history(name, limit);
        if (output().json()) {
            output().json(JsonViews.History.of(entries));
            return ExitCode.OK;
        }
        if (entries.isEmpty()) {
            output().info("no refreshes recorded");
            return ExitCode.OK;
        }
        Table t = new Table("REFRESH_ID", "STREAM TABLE", "ACTION", "STATUS", "INITIATED BY", "START TIME",
                "DURATION MS", "+ROWS", "-ROWS", "REASON/ERROR");
        for (HistoryEntry h : entries) {
            String why = h.errorMessage() != null ? h.errorMessage() : h.reason();
            t.row(h.refreshId(), h.streamTable(), h.action(), h.status(), h.initiatedBy(), h.startTime(),
                    h.durationMillis(), h.rowsInserted(), h.rowsDeleted(), Format.cell(why, REASON_WIDTH));
        }
        t.print(output().out());
        return ExitCode.OK;
    }
}
