package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTables;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "drop", description = "Drop a stream table and its storage table.")
final class DropCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The stream table: 'table' or 'schema.table'.")
    String name;

    @Option(names = "--cascade", description = "Also drop the stream tables that read this one.")
    boolean cascade;

    @Override
    protected int run(StreamTables db) {
        List<String> dropped = db.drop(name, cascade);
        if (output().json()) {
            output().json(new JsonViews.Dropped(dropped));
        } else {
            dropped.forEach(d -> output().line("dropped stream table " + d));
        }
        return ExitCode.OK;
    }
}
