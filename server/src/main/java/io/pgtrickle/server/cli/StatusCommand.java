package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.api.StreamTables;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "status",
        description = "Health of all stream tables, or everything about one (with its row count and sources).")
final class StatusCommand extends DatabaseCommand {
    private static final int ERROR_WIDTH = 60;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "One stream table; all if omitted.")
    String name;

    @Override
    protected int run(StreamTables db) {
        return name == null ? all(db) : one(db);
    }

    private int all(StreamTables db) {
        List<StreamTableInfo> all = db.list();
        if (printedAsJsonOrEmpty(all)) {
            return ExitCode.OK;
        }
        Table t = new Table("NAME", "MODE", "SCHEDULE", "STATUS", "POPULATED", "LAST REFRESH", "ERRORS",
                "NEEDS REINIT", "LAST ERROR");
        for (StreamTableInfo st : all) {
            t.row(st.qualifiedName(), st.refreshMode(), st.scheduleText(), st.status(), st.populated(),
                    st.lastRefreshAt(), st.consecutiveErrors(), st.needsReinit(),
                    Format.cell(st.lastError(), ERROR_WIDTH));
        }
        t.print(output().out());
        return ExitCode.OK;
    }

    private int one(StreamTables db) {
        StreamTableInfo st = db.get(name);
        long rows = db.rowCount(name);
        if (output().json()) {
            output().json(JsonViews.StreamTable.of(st, rows));
            return ExitCode.OK;
        }
        new Details()
                .add("name", st.qualifiedName())
                .add("status", st.status())
                .add("refresh mode", st.refreshMode())
                .add("schedule", st.scheduleText())
                .add("populated", st.populated())
                .add("rows", rows)
                .add("last refresh", st.lastRefreshAt())
                .add("data timestamp", st.dataTimestamp())
                .add("consecutive errors", st.consecutiveErrors())
                .add("needs reinit", st.needsReinit() && st.reinitReason() != null
                        ? "yes (" + st.reinitReason() + ")" : Format.text(st.needsReinit()))
                .add("last error", st.lastError())
                .add("sources", sources(st))
                .add("query", st.definingQuery())
                .print(output().out());
        return ExitCode.OK;
    }

    /** One line per source: "public.orders (TABLE: id, amount)". */
    private static String sources(StreamTableInfo st) {
        if (st.sources() == null || st.sources().isEmpty()) {
            return null;
        }
        return st.sources().stream()
                .map(s -> s.schema() + "." + s.name() + " (" + s.type()
                        + (s.columnsUsed() == null || s.columnsUsed().isEmpty() ? ""
                                : ": " + String.join(", ", s.columnsUsed())) + ")")
                .collect(Collectors.joining("\n"));
    }
}
