package io.pgtrickle.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/** Where a command's output goes: results on stdout (text or one JSON document), diagnostics on stderr. */
final class Output {
    /** snake_case, ISO-8601 timestamps; field names come from the records in {@link JsonViews}. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;

    Output(PrintWriter out, PrintWriter err, boolean json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    PrintWriter out() {
        return out;
    }

    void line(String text) {
        out.println(text);
        out.flush();
    }

    void json(Object document) {
        try {
            // writeValueAsString: writing to the PrintWriter directly would let Jackson close it.
            out.println(JSON.writeValueAsString(document));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        out.flush();
    }

    /** A notice from the engine: advice about the result, not the result itself, so it goes to stderr. */
    void notice(String text) {
        err.println("notice: " + text);
        err.flush();
    }

    /** Something a human should know that is not a result (e.g. "no stream tables"); silent in JSON mode. */
    void info(String text) {
        if (!json) {
            err.println(text);
            err.flush();
        }
    }
}
