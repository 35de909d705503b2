package io.pgtrickle.server.cli;

import io.pgtrickle.core.schedule.LeaderLock;
import io.pgtrickle.embedded.EmbeddedPostgres;
import io.pgtrickle.server.daemon.Daemon;
import java.net.BindException;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

@Command(name = "serve", description = "Run the daemon: refresh stream tables on schedule, serve /metrics, /health and a "
        + "status page over HTTP. Runs until SIGTERM or Ctrl-C.",
        footer = "%nAny number of daemons may serve one database: one leads (advisory lock " + LeaderLock.KEY
                + ") and refreshes, the others take over within seconds when it stops. See docs/DAEMON.md.")
final class ServeCommand extends BaseCommand {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--embedded", order = 1,
            description = "Start a fresh embedded PostgreSQL 18 (database 'pgtrickle') instead of connecting to --url; "
                    + "it is removed when the daemon stops.")
    boolean embedded;

    @Option(names = "--http-port", order = 2, defaultValue = "9188", paramLabel = "PORT",
            description = "HTTP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int httpPort;

    @Option(names = "--http-bind", order = 3, defaultValue = "127.0.0.1", paramLabel = "ADDRESS",
            description = "Address HTTP listens on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String httpBind;

    @Override
    protected int execute() throws Exception {
        Logging.configureDaemon(verbose());
        if (httpPort < 0 || httpPort > 65_535) {
            throw new ParameterException(spec.commandLine(), "--http-port must be 0-65535, not " + httpPort);
        }
        if (embedded && connection.url != null && !connection.url.isBlank() && spec.commandLine().getParseResult()
                .hasMatchedOption("--url")) {
            throw new ParameterException(spec.commandLine(), "give either --url or --embedded, not both");
        }
        EmbeddedPostgres pg = null;
        String url;
        if (embedded) {
            output().info("starting embedded PostgreSQL (the first run unpacks the binaries) ...");
            pg = EmbeddedPostgres.builder().start();
            pg.createDatabase("pgtrickle");
            url = pg.jdbcUrl("pgtrickle");
            output().line("embedded PostgreSQL " + pg.version() + ": " + url);
        } else {
            url = connection.validUrl(spec);
        }
        Daemon daemon;
        try {
            daemon = Daemon.start(Daemon.Options.of(url).withHttp(httpBind, httpPort));
        } catch (BindException e) {
            if (pg != null) {
                pg.close();
            }
            spec.commandLine().getErr().println("error: cannot listen on " + httpBind + ":" + httpPort + ": " + e.getMessage());
            spec.commandLine().getErr().println("hint: Choose another port with --http-port (0 picks a free one).");
            return ExitCode.USAGE;
        } catch (RuntimeException e) {
            if (pg != null) {
                pg.close();
            }
            throw e;
        }
        Daemon.Started s = daemon.started();
        output().line(s.catalogFrom() == s.catalogTo() ? "catalog version " + s.catalogTo()
                : "catalog version " + s.catalogTo() + " installed (was " + s.catalogFrom() + ")");
        output().line("http://" + daemon.httpBind() + ":" + daemon.httpPort() + "/ (also /metrics and /health)");
        output().line("waiting for the leader lock " + LeaderLock.KEY + "; stop with Ctrl-C or SIGTERM");
        spec.commandLine().getOut().flush();

        CountDownLatch stopped = new CountDownLatch(1);
        EmbeddedPostgres server = pg;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.close(); // a refresh in flight finishes first
            if (server != null) {
                server.close();
            }
            stopped.countDown();
        }, "pgtrickle-shutdown"));
        stopped.await();
        return ExitCode.OK;
    }
}
