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
}
