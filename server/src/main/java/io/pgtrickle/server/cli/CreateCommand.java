package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.StreamTables;
import java.util.Locale;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", description = "Create a stream table from a query.")
final class CreateCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "'table' or 'schema.table'")
    String name;

    @Parameters(index = "1", paramLabel = "QUERY", description = "The defining query: one SELECT (quote it).")
    String query;

    @Option(names = "--schedule", paramLabel = "S",
            description = "A duration (30s, 5m, 1h30m), a cron expression or 'calculated' (the default).")
    String schedule;

    // A String, not the enum: RefreshMode.parse knows the aliases and gives a hint on error.
    @Option(names = "--mode", paramLabel = "MODE", description = "AUTO (default), FULL, DIFFERENTIAL or IMMEDIATE.")
    String mode;

    @Option(names = "--no-initialize", description = "Do not populate now; leave it to the first refresh.")
    boolean noInitialize;

    @ArgGroup(exclusive = true)
    IfExists ifExists;

    static final class IfExists {
        @Option(names = "--or-replace", required = true,
                description = "If it exists, make it match this definition.")
        boolean orReplace;

        @Option(names = "--if-not-exists", required = true, description = "If it exists, leave it untouched.")
        boolean ifNotExists;
    }

    @Override
    protected int run(StreamTables db) {
        CreateOptions options = new CreateOptions(name, query, schedule,
                mode == null ? RefreshMode.AUTO : RefreshMode.parse(mode), !noInitialize);
        CreateResult r;
        if (ifExists != null && ifExists.orReplace) {
            r = db.createOrReplace(options);
        } else if (ifExists != null && ifExists.ifNotExists) {
            r = db.createIfNotExists(options);
        } else {
            r = db.create(options);
        }
        r.notices().forEach(output()::notice);
        if (output().json()) {
            output().json(new JsonViews.Created(r.outcome().name(), JsonViews.StreamTable.of(r.streamTable()),
                    r.notices()));
        } else {
            output().line(r.outcome().name().toLowerCase(Locale.ROOT) + " stream table "
                    + r.streamTable().qualifiedName() + " (" + Format.settings(r.streamTable())
                    + (r.streamTable().populated() ? ", populated" : ", not populated") + ")");
        }
        return ExitCode.OK;
    }
}
