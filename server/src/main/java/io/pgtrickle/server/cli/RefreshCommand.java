package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTables;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "refresh", description = "Refresh a stream table now, waiting for a refresh already running.")
final class RefreshCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The stream table: 'table' or 'schema.table'.")
    String name;

    @Option(names = "--full", description = "Recompute from scratch even if a differential refresh is possible.")
    boolean full;

    @Override
    protected int run(StreamTables db) {
        RefreshResult r = db.refresh(name, full);
        if (output().json()) {
            output().json(JsonViews.Refresh.of(r));
        } else {
            new Details()
                    .add("stream table", r.streamTable())
                    .add("action", r.action())
                    .add("rows inserted", r.rowsInserted())
                    .add("rows deleted", r.rowsDeleted())
                    .add("changes consumed", r.changeRows())
                    .add("duration", Format.millis(r.durationMillis()))
                    .add("reason", r.reason())
                    .print(output().out());
        }
        return ExitCode.OK;
    }
}
