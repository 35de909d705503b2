package io.pgtrickle.server.demo;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.api.Verification;
import io.pgtrickle.core.schedule.Scheduler;
import io.pgtrickle.embedded.EmbeddedPostgres;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pgtrickle demo}: a shop on embedded PostgreSQL, stream tables over it, a write workload,
 * and the refreshes as they happen. Ends by checking every stream table against its query.
 */
public final class Demo {
    /** What the demo is asked to do. */
    public record Options(Duration duration, int statementsPerSecond, boolean interactive) {
    }

    /** What it found: everything consistent, and how much work was done. */
    public record Summary(boolean consistent, long writes, long refreshes) {
    }

    private final PrintWriter out;

    public Demo(PrintWriter out) {
        this.out = out;
    }

    public Summary run(Options options) throws Exception {
        say("pg_trickle demo: stream tables kept fresh while orders stream in");
        long t0 = System.nanoTime();
        step(1, "starting embedded PostgreSQL 18 (first run unpacks the binaries) ...");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            pg.createDatabase("demo");
            String url = pg.jdbcUrl("demo");
            say("      ready on port %d in %.1f s (PostgreSQL %s)", pg.port(), (System.nanoTime() - t0) / 1e9, pg.version());
            StreamTables api = StreamTables.connect(url);

            step(2, "installing the pg_trickle catalog ...");
            say("      catalog version %d", api.install().toVersion());

            step(3, "creating the shop: %d customers, %d products, %,d orders ...", DemoSchema.CUSTOMERS,
                    DemoSchema.PRODUCTS, DemoSchema.ORDERS);
            try (Connection c = DriverManager.getConnection(url)) {
                DemoSchema.create(c);
            }

            step(4, "creating stream tables:");
            LiveView view = new LiveView(out, options.interactive());
            List<StreamTableInfo> created = new ArrayList<>();
            for (CreateOptions o : DemoSchema.streamTables()) {
                CreateResult r = api.create(o);
                StreamTableInfo st = r.streamTable();
                created.add(st);
                view.track(st.qualifiedName(), st.scheduleText());
                say("      %-26s %-11s %-12s %5d rows   reads %s", st.qualifiedName(), st.scheduleText(), st.refreshMode(),
                        api.rowCount(st.qualifiedName()),
                        String.join(", ", st.sources().stream().map(StreamTableInfo.Source::name).toList()));
                r.notices().forEach(n -> say("        (%s)", n.replaceFirst("^stream table \"[^\"]*\" ", "")));
            }

            step(5, "writing ~%d statements/s for %d s; the scheduler refreshes what is due and changed",
                    options.statementsPerSecond(), options.duration().toSeconds());
            long until = System.nanoTime() + options.duration().toNanos();
            DemoWorkload workload;
            try (Connection writer = DriverManager.getConnection(url);
                 Scheduler scheduler = new Scheduler(() -> DriverManager.getConnection(url), InstantSource.system(), view)) {
                workload = new DemoWorkload(writer, options.statementsPerSecond(), until);
                Thread writerThread = new Thread(workload, "demo-writer");
                writerThread.start();
                scheduler.start();
                long start = System.nanoTime();
                while (writerThread.isAlive()) {
                    for (StreamTableInfo st : created) {
                        view.rows().get(st.qualifiedName()).storedRows = api.rowCount(st.qualifiedName());
                    }
                    view.draw(Duration.ofNanos(System.nanoTime() - start), options.duration(), workload);
                    writerThread.join(500);
                }
                if (workload.failure() != null) {
                    throw workload.failure();
                }
            }

            say("");
            say("workload done: %d inserts, %d updates, %d deletes", workload.inserts.get(), workload.updates.get(),
                    workload.deletes.get());
            say("final refresh (upstream first) and check of every stream table against its defining query:");
            boolean consistent = true;
            long refreshes = 0;
            for (StreamTableInfo st : created) {
                api.refresh(st.qualifiedName());
                Verification v = api.verify(st.qualifiedName());
                LiveView.Row row = view.rows().get(st.qualifiedName());
                refreshes += row.refreshes;
                consistent &= v.consistent();
                say("      %-26s %4d refreshes  +%-6d -%-6d avg %4d ms   %5d rows   %s", st.qualifiedName(),
                        row.refreshes, row.inserted, row.deleted, row.refreshes == 0 ? 0 : row.totalMillis / row.refreshes,
                        v.storedRows(), v.consistent() ? "equals its query"
                                : "DIFFERS: " + v.storedOnly() + " stored only, " + v.queryOnly() + " missing");
            }
            say("");
            say(consistent ? "every stream table equals its defining query. Stopping PostgreSQL."
                    : "some stream table differs from its query: this is a bug, please report it.");
            return new Summary(consistent, workload.statements(), refreshes);
        }
    }

    private void step(int n, String format, Object... args) {
        say("[" + n + "/5] " + String.format(format, args));
    }

    private void say(String format, Object... args) {
        out.println(args.length == 0 ? format : String.format(format, args));
        out.flush();
    }
}
