package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportMergeTest {
    private static RefreshScenarios.Point point(String scenario, int rows, double rate, double diffMs) {
        Stats.Sample s = new Stats.Sample(diffMs, diffMs, diffMs, 3);
        Stats.Sample full = new Stats.Sample(100, 100, 100, 3);
        return new RefreshScenarios.Point(scenario, rows, rate, 10, s, full, full, null, null, List.of("DIFFERENTIAL"), null, null);
    }

    private static Map<String, Object> run(String commit) {
        return Map.of("args", "--x", "started", "2026-12-03 10:00 UTC", "durationSeconds", 60, "commit", commit,
                "kind", "full run");
    }

    @Test
    void refreshPointsOfTheSameCellAreReplacedAndNewOnesAddedOtherFamiliesKept(@TempDir Path dir) throws Exception {
        CaptureCost.Row oldCapture = new CaptureCost.Row("bulk", 10_000, 5, 1, 2, 100, 200);
        Report base = new Report(run("aaa"), Map.of("cores", 2),
                List.of(point("filter", 100_000, 0.001, 5), point("filter", 100_000, 0.01, 7)),
                List.of(oldCapture), null, null, null, null);
        CaptureCost.Row newCapture = new CaptureCost.Row("bulk", 10_000, 5, 1, 2, 100, 104);
        Report partial = new Report(run("bbb"), Map.of("cores", 2),
                List.of(point("filter", 100_000, 0.01, 6), point("filter", 1_000_000, 0.001, 9)),
                List.of(newCapture), null, null, null, null);

        Report merged = ReportMerge.merge(base, partial);

        assertThat(merged.refresh()).extracting(p -> p.rows() + "@" + p.changeRate() + "=" + p.differential().median())
                .containsExactlyInAnyOrder("100000@0.001=5.0", "100000@0.01=6.0", "1000000@0.001=9.0");
        assertThat(merged.capture()).containsExactly(newCapture);
        assertThat(merged.run().get("commit")).isEqualTo("aaa");
        assertThat(ReportMerge.describe(merged.run())).singleElement().asString()
                .contains("[refresh, capture]", "commit bbb", "--x");

        // Through the JSON file: a run that measures the same cells and families again replaces the
        // earlier one, which the page then no longer names ...
        Path file = dir.resolve("results.json");
        merged.writeJson(file);
        assertThat(Files.readString(file)).contains("\"merged\"", "\"cells\"");
        Report rerun = new Report(run("ccc"), Map.of("cores", 2),
                List.of(point("filter", 100_000, 0.01, 5.5), point("filter", 1_000_000, 0.001, 8)),
                List.of(newCapture), null, null, null, null);
        Report again = ReportMerge.merge(Report.readJson(file), rerun);
        assertThat(ReportMerge.describe(again.run())).singleElement().asString().contains("commit ccc");
        assertThat(again.refresh()).hasSize(3);
        // ... while one that replaces only some of its cells leaves it listed.
        Report some = new Report(run("ddd"), Map.of("cores", 2), List.of(point("filter", 1_000_000, 0.001, 7)),
                null, null, null, null, null);
        assertThat(ReportMerge.describe(ReportMerge.merge(again, some).run())).hasSize(2);
    }

    @Test
    void anEarlierEntryWithoutItsCellsStaysListed() {
        Map<String, Object> legacy = new java.util.LinkedHashMap<>(run("aaa"));
        legacy.put("merged", List.of(Map.of("families", List.of("refresh"), "args", "--only filter", "commit", "old")));
        Report base = new Report(legacy, Map.of("cores", 2), List.of(point("filter", 100_000, 0.01, 7)),
                null, null, null, null, null);
        Report partial = new Report(run("bbb"), Map.of("cores", 2), List.of(point("filter", 100_000, 0.01, 6)),
                null, null, null, null, null);
        assertThat(ReportMerge.describe(ReportMerge.merge(base, partial).run())).hasSize(2);
    }

    @Test
    void aPointWithAWriteFloorSurvivesTheJsonAndIsShownInATableOfItsOwn(@TempDir Path dir) throws Exception {
        Stats.Sample diff = new Stats.Sample(4, 3.5, 5, 3);
        Stats.Sample full = new Stats.Sample(200, 190, 210, 3);
        Stats.Sample floor = new Stats.Sample(2.5, 2, 3, 3);
        RefreshScenarios.Point measured = new RefreshScenarios.Point("filter/projection", 1_000_000, 0.001, 1000, diff, full, full,
                null, null, List.of("DIFFERENTIAL"), floor, 151L);
        Report report = new Report(run("eee"), Map.of("cores", 2), List.of(measured, point("DISTINCT", 1_000_000, 0.001, 9)),
                null, null, null, null, null);
        Path file = dir.resolve("results.json");
        report.writeJson(file);
        assertThat(Files.readString(file)).contains("\"fullOverFloor\" : 80.0");

        Report read = Report.readJson(file);
        assertThat(read.refresh()).extracting(RefreshScenarios.Point::writeFloor).containsExactly(floor, null);
        MarkdownReport.write(read, dir);
        String page = Files.readString(dir.resolve("BENCHMARK.md"));
        assertThat(page).contains("### The write floor",
                "| filter/projection | 1,000,000 | 0.1 % | 151 | 4.0 (1.5) | 200 (20) | 2.5 (1.0) | 50× | 80× | 1.6× |");
        assertThat(page.substring(page.indexOf("### The write floor"))).doesNotContain("| DISTINCT |");
    }
}
