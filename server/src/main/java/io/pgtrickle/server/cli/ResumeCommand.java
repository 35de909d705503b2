package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.api.StreamTables;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "resume",
        description = "Resume a PAUSED, SUSPENDED or ERROR stream table; its error count is reset.")
final class ResumeCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The stream table: 'table' or 'schema.table'.")
    String name;

    @Override
    protected int run(StreamTables db) {
        db.resume(name);
        StreamTableInfo st = db.get(name);
        if (output().json()) {
            output().json(new JsonViews.Altered(JsonViews.StreamTable.of(st), List.of()));
        } else {
            output().line("resumed stream table " + st.qualifiedName() + " (" + Format.settings(st) + ")");
        }
        return ExitCode.OK;
    }
}
