package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.api.StreamTables;
import java.util.List;
import picocli.CommandLine.Command;

/** A cheap overview: catalog only, no row counts (those scan every table; see 'status NAME'). */
@Command(name = "list", description = "List the stream tables.")
final class ListCommand extends DatabaseCommand {

    @Override
    protected int run(StreamTables db) {
        List<StreamTableInfo> all = db.list();
        if (printedAsJsonOrEmpty(all)) {
            return ExitCode.OK;
        }
        Table t = new Table("NAME", "MODE", "SCHEDULE", "STATUS", "POPULATED", "LAST REFRESH");
        for (StreamTableInfo st : all) {
            t.row(st.qualifiedName(), st.refreshMode(), st.scheduleText(), st.status(), st.populated(),
                    st.lastRefreshAt());
        }
        t.print(output().out());
        return ExitCode.OK;
    }
}
