package io.pgtrickle.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Folds a partial run into a complete one: a 1,000,000-row refresh run, or a family measured again
 * after a change, without measuring everything again. Refresh points replace those of the same
 * scenario, source size and change rate; any other family the partial run measured replaces the
 * complete run's. The partial run is listed in the result's {@code run.merged}, so the page says
 * which numbers come from which run and commit.
 */
final class ReportMerge {
    private ReportMerge() {
    }

    static Report merge(Report base, Report partial) {
        List<RefreshScenarios.Point> refresh = base.refresh();
        if (partial.refresh() != null && !partial.refresh().isEmpty()) {
            refresh = new ArrayList<>(base.refresh() == null ? List.of() : base.refresh());
            refresh.removeIf(p -> partial.refresh().stream().anyMatch(q -> sameCell(p, q)));
            refresh.addAll(partial.refresh());
        }
        Map<String, Object> run = new LinkedHashMap<>(base.run());
        List<String> families = families(partial);
        List<String> cells = partial.refresh() == null ? List.of() : partial.refresh().stream().map(ReportMerge::cell).toList();
        List<Object> merged = new ArrayList<>();
        if (run.get("merged") instanceof List<?> earlier) {
            for (Object e : earlier) {
                if (!supersededBy(e, families, cells)) {
                    merged.add(e);
                }
            }
        }
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("families", families);
        for (String k : List.of("args", "started", "durationSeconds", "commit")) {
            entry.put(k, partial.run().get(k));
        }
        entry.put("cells", cells);
        merged.add(entry);
        run.put("merged", merged);
        return new Report(run, base.machine(), refresh, or(partial.capture(), base.capture()),
                or(partial.noopAndTick(), base.noopAndTick()), or(partial.freshness(), base.freshness()),
                or(partial.immediate(), base.immediate()), or(partial.tpch(), base.tpch()));
    }

    private static boolean sameCell(RefreshScenarios.Point a, RefreshScenarios.Point b) {
        return cell(a).equals(cell(b));
    }

    /** A refresh cell's name in {@code run.merged[].cells}: scenario, source rows, change rate. */
    private static String cell(RefreshScenarios.Point p) {
        return p.scenario() + " | " + p.rows() + " | " + p.changeRate();
    }

    /**
     * Whether an earlier merged run has nothing left on the page once {@code families} (and, for
     * refresh, {@code cells}) are replaced: then the page no longer names it. An entry without its
     * cells (written before they were recorded) stays while it had refresh numbers.
     */
    private static boolean supersededBy(Object earlier, List<String> families, List<String> cells) {
        if (!(earlier instanceof Map<?, ?> m) || !(m.get("families") instanceof List<?> had)) {
            return false;
        }
        for (Object family : had) {
            boolean replaced = "refresh".equals(family)
                    ? m.get("cells") instanceof List<?> c && !c.isEmpty() && cells.containsAll(c)
                    : families.contains(family);
            if (!replaced) {
                return false;
            }
        }
        return true;
    }

    private static <T> T or(T partial, T base) {
        return partial != null ? partial : base;
    }

    /** The families a report holds, by their command-line names. */
    static List<String> families(Report r) {
        List<String> out = new ArrayList<>();
        add(out, "refresh", r.refresh());
        add(out, "capture", r.capture());
        add(out, "noop", r.noopAndTick());
        add(out, "freshness", r.freshness());
        add(out, "immediate", r.immediate());
        add(out, "tpch", r.tpch());
        return out;
    }

    private static void add(List<String> out, String name, Object value) {
        if (value != null && !(value instanceof List<?> l && l.isEmpty())) {
            out.add(name);
        }
    }

    /** One line per merged run for the page: families, when, commit, command line. */
    static List<String> describe(Map<String, Object> run) {
        List<String> out = new ArrayList<>();
        if (run.get("merged") instanceof List<?> merged) {
            for (Object o : merged) {
                if (o instanceof Map<?, ?> m) {
                    out.add(String.format(java.util.Locale.ROOT, "%s from a partial run of %s (%s), commit %s: `%s`",
                            m.get("families"), m.get("started"), Progress.clock(java.time.Duration.ofSeconds(
                                    ((Number) Objects.requireNonNullElse(m.get("durationSeconds"), 0)).longValue())),
                            m.get("commit"), m.get("args")));
                }
            }
        }
        return out;
    }
}
