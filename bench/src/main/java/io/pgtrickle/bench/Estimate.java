package io.pgtrickle.bench;

import io.pgtrickle.bench.Config.Family;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A rough forecast of a run's duration, from the per-step times of earlier runs on the 2-core
 * development machine (docs/BENCHMARK.md's), scaled by rows, repetitions and scale factor.
 */
final class Estimate {
    private Estimate() {
    }

    static Duration of(Family f, Config cfg) {
        double rowsFactor = cfg.rows().stream().mapToDouble(r -> r / 100_000.0).sum();
        double seconds = switch (f) {
            // per scenario at 100,000 rows and 6 rounds (5 + warm-up): about 6.5 s a rate up to 10 %, 40 s at 50 %
            // (the slow differential refreshes of LEFT JOIN and MIN/MAX); taken as linear in rows
            case REFRESH -> RefreshScenarios.selected(cfg).size() * cfg.rates().stream().mapToDouble(r -> r >= 0.5 ? 40 : 6.5).sum()
                    * (cfg.reps() + cfg.refreshWarmup()) / 6 * rowsFactor + 3 * cfg.rows().size();
            case CAPTURE -> cfg.quick() ? 30 : 70;
            case NOOP -> 150;
            case FRESHNESS -> Freshness.schedules().size() * ((cfg.quick() ? 10 : 30) + 8);
            case IMMEDIATE -> cfg.quick() ? 20 : 50;
            // at scale 0.1 about 10 min, most of it slow DIFFERENTIAL refreshes (Q18 up to the timeout, Q20, Q21)
            case TPCH -> 5500 * cfg.tpchScale() + 30;
        };
        return Duration.ofSeconds(Math.round(seconds));
    }

    static String describe(Config cfg) {
        Duration total = Duration.ZERO;
        List<String> parts = new ArrayList<>();
        for (Family f : cfg.families()) {
            Duration d = of(f, cfg);
            total = total.plus(d);
            parts.add(f.label() + " " + Progress.clock(d));
        }
        return "about " + Progress.clock(total) + " on 2 cores (" + String.join(", ", parts) + ")";
    }

    /** The checked-out commit, with "+changes" when the code in the work tree differs from it; "unknown" outside git. */
    static String gitCommit() {
        try {
            String head = git("rev-parse", "--short", "HEAD");
            // only code counts: a run that rewrites docs/BENCHMARK.md makes the tree differ, the engine is the same
            String dirty = git("status", "--porcelain", "--untracked-files=no", "--", "*.java", "*.sql", "*pom.xml");
            return head == null ? "unknown" : head + (dirty == null || dirty.isBlank() ? "" : "+changes");
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    private static String git(String... args) {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
