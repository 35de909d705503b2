package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.catalog.CatalogInstaller.InstallResult;
import picocli.CommandLine.Command;

@Command(name = "install", description = "Install or upgrade the pg_trickle catalog in the database (idempotent).")
final class InstallCommand extends DatabaseCommand {

    @Override
    protected int run(StreamTables db) {
        InstallResult r = db.install();
        if (output().json()) {
            output().json(new JsonViews.Install(r.fromVersion(), r.toVersion(), r.changed()));
        } else if (r.changed()) {
            output().line("catalog version " + r.toVersion() + " installed (was " + r.fromVersion() + ")");
        } else {
            output().line("already at version " + r.toVersion());
        }
        return ExitCode.OK;
    }
}
