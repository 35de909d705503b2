package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTables;
import picocli.CommandLine.Mixin;

/** A command that works on one database through the {@link StreamTables} facade. */
abstract class DatabaseCommand extends BaseCommand {
    @Mixin
    ConnectionOptions connection;

    @Override
    protected final int execute() {
        return run(connection.connect(spec));
    }

    protected abstract int run(StreamTables db);

    /** The list as one JSON document, or a note that there is none: true when the table view is not needed. */
    boolean printedAsJsonOrEmpty(java.util.List<io.pgtrickle.core.api.StreamTableInfo> all) {
        if (output().json()) {
            output().json(JsonViews.StreamTableList.of(all));
            return true;
        }
        if (all.isEmpty()) {
            output().info("no stream tables");
            return true;
        }
        return false;
    }
}
