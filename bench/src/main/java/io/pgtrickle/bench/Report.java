package io.pgtrickle.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything one run measured, as written to {@code bench/results.json}; a family not run is null.
 *
 * @param run     the command line, start, duration, commit and parameters of the run
 * @param machine {@link Machine#describe}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record Report(Map<String, Object> run, Map<String, Object> machine, List<RefreshScenarios.Point> refresh,
              List<CaptureCost.Row> capture, NoopAndTick.Result noopAndTick, List<Freshness.Result> freshness,
              List<ImmediateWrites.Row> immediate, TpchBench.Result tpch) {

    static Report readJson(Path file) throws IOException {
        return new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false) // derived values
                .readValue(file.toFile(), Report.class);
    }

    void writeJson(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), this);
    }
}
