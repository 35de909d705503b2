package io.pgtrickle.server.daemon;

import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.Setting;
import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import io.pgtrickle.core.catalog.CatalogInstaller;
import io.pgtrickle.core.schedule.HistoryPruner;
import io.pgtrickle.core.schedule.Scheduler;
import io.pgtrickle.server.http.HttpEndpoints;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pgtrickle serve}: the daemon beside one database.
 *
 * <p>Starting installs or upgrades the catalog, then joins the leader election
 * ({@link Leadership}). Only the leader runs the {@link Scheduler} and the history pruner; every
 * daemon serves HTTP and carries out the SQL API's requests ({@link RequestWorker}). Closing stops scheduling, lets a refresh in flight finish (or rolls it
 * back after {@code Scheduler.CLOSE_GRACE}), releases the leader lock and stops HTTP.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    /**
     * @param electionRetry how often a standby tries the leader lock, and how often the leader checks it holds it
     */
    public record Options(String jdbcUrl, String httpBind, int httpPort, Duration electionRetry) {
        public static Options of(String jdbcUrl) {
            return new Options(jdbcUrl, "127.0.0.1", 9188, Duration.ofSeconds(1));
        }

        public Options withHttp(String bind, int port) {
            return new Options(jdbcUrl, bind, port, electionRetry);
        }
    }

    /** What starting found and did; printed by the CLI. */
    public record Started(int catalogFrom, int catalogTo) {
    }

    private final Options options;
    private final DaemonMetrics metrics;
    private final Leadership leadership;
    private final HttpEndpoints http;
    private final RequestWorker requests;
    private final Started started;
    private final ScheduledExecutorService pruning = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgtrickle-history-pruner");
        t.setDaemon(true);
        return t;
    });
    private volatile Scheduler scheduler;
    /** Counts elections won; a pruning run planned in an earlier term does nothing. */
    private volatile long term;
    private volatile boolean closed;

    private Daemon(Options options) throws IOException {
        this.options = options;
        this.started = prepare();
        this.metrics = new DaemonMetrics(connections("pgtrickle metrics", 10), () -> scheduler, this::leader);
        this.leadership = new Leadership(connections("pgtrickle leader"), options.electionRetry(), new Leadership.Listener() {
            @Override
            public void elected() {
                startScheduling();
            }

            @Override
            public void deposed() {
                stopScheduling();
            }

            @Override
            public void changesCommitted() {
                Scheduler s = scheduler;
                if (s != null) {
                    s.wakeUp();
                }
            }
        });
        this.requests = new RequestWorker(connections("pgtrickle requests"));
        this.http = HttpEndpoints.start(options.httpBind(), options.httpPort(), new DaemonView(this));
    }

    /** Installs or upgrades the catalog, starts HTTP and joins the election. */
    public static Daemon start(Options options) throws IOException {
        Daemon d = new Daemon(options);
        d.requests.start();
        d.leadership.start();
        return d;
    }

    private Started prepare() {
        try (Connection c = connections("pgtrickle install").open()) {
            CatalogInstaller.InstallResult r = new CatalogInstaller().install(c);  // rewrites older capture functions too
            return new Started(r.fromVersion(), r.toVersion());
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "starting the daemon");
        }
    }

    public Started started() {
        return started;
    }

    public boolean leader() {
        return leadership.leader();
    }

    /** The backend pid of the session holding (or trying) the leader lock; 0 while it has none. */
    public int lockBackendPid() {
        return leadership.backendPid();
    }

    public int httpPort() {
        return http.port();
    }

    public String httpBind() {
        return options.httpBind();
    }

    Options options() {
        return options;
    }

    DaemonMetrics metrics() {
        return metrics;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    /** Connections to the daemon's database, named in pg_stat_activity. */
    ConnectionSource connections(String applicationName) {
        return connections(applicationName, 0);
    }

    /** @param socketTimeoutSeconds longest wait for an answer, 0 for none (a refresh may take long) */
    ConnectionSource connections(String applicationName, int socketTimeoutSeconds) {
        return () -> {
            Properties p = new Properties();
            p.setProperty("ApplicationName", applicationName);
            p.setProperty("tcpKeepAlive", "true");
            p.setProperty("connectTimeout", "10");
            p.setProperty("socketTimeout", Integer.toString(socketTimeoutSeconds));
            return DriverManager.getConnection(options.jdbcUrl(), p);
        };
    }

    private synchronized void startScheduling() {
        if (closed || scheduler != null) {
            return;
        }
        Duration poll;
        try (Connection c = connections("pgtrickle settings").open()) {
            poll = Duration.ofMillis(Math.round(Setting.SCHEDULER_INTERVAL_MS.currentNumber(c, 100, 600_000)));
        } catch (SQLException | PgtException e) {
            poll = Duration.ofMillis(Long.parseLong(Setting.SCHEDULER_INTERVAL_MS.defaultValue()));
            log.warn("{}; polling every {} ms", e.getMessage(), poll.toMillis());
        }
        Scheduler s = new Scheduler(connections("pgtrickle scheduler"), InstantSource.system(), metrics, poll,
                RandomGenerator.getDefault());
        s.start();
        scheduler = s;
        schedulePruning(Duration.ZERO, ++term);
    }

    private synchronized void stopScheduling() {
        Scheduler s = scheduler;
        scheduler = null;
        if (s != null) {
            s.close(); // no new refresh; the one in flight finishes or is rolled back
        }
    }

    /** Runs the pruner after {@code delay}, then again after the interval the settings give at that time. */
    private void schedulePruning(Duration delay, long plannedInTerm) {
        if (closed) {
            return;
        }
        pruning.schedule(() -> {
            Duration next = Duration.ofSeconds(Long.parseLong(Setting.HISTORY_PRUNE_INTERVAL_SECONDS.defaultValue()));
            if (scheduler == null || term != plannedInTerm) {
                return; // deposed: the next leader prunes
            }
            try {
                HistoryPruner pruner = new HistoryPruner(connections("pgtrickle history pruner"));
                HistoryPruner.Settings settings = pruner.settings();
                if (!settings.interval().isZero()) {
                    next = settings.interval();
                    pruner.run();
                }
            } catch (RuntimeException e) {
                log.warn("history pruning failed: {}", e.getMessage());
            }
            schedulePruning(next, plannedInTerm);
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Stops scheduling (a refresh in flight finishes), releases the leader lock, then stops HTTP. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        log.info("stopping: finishing the refresh in flight, if any, then releasing the leader lock");
        requests.close();
        leadership.close();
        stopScheduling();
        pruning.shutdownNow();
        http.close();
    }
}
