package io.pgtrickle.core.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Server messages are localised (lc_messages), so no decision may depend on their text: retries,
 * error states and alerts go by SQLSTATE only. FailureAlertTest proves it for the scheduler with
 * misleading messages; this test keeps every other path honest by looking at the source: a
 * message may be shown or stored, never inspected.
 */
class NoMessageTextDecisionsTest {
    /** A string inspection applied to an error message on the same line. */
    private static final Pattern JAVA_INSPECTION = Pattern.compile(
            "(getMessage\\(\\)|getServerErrorMessage\\(\\)\\.getMessage\\(\\)|\\bmessage\\b)"
                    + "[^;]*\\.(contains|startsWith|endsWith|matches|equals|equalsIgnoreCase|indexOf|lastIndexOf"
                    + "|regionMatches|toLowerCase|toUpperCase)\\(");
    private static final Pattern JAVA_INSPECTED = Pattern.compile(
            "\\.(contains|startsWith|endsWith|matches|equals|equalsIgnoreCase|indexOf)\\([^)]*getMessage\\(\\)");
    /** In SQL: a message variable in a condition or a pattern match. */
    private static final Pattern SQL_INSPECTION = Pattern.compile(
            "(?i)(\\b(IF|WHEN|ELSIF|WHERE)\\b[^;]*\\b(SQLERRM|v_msg|p_message|MESSAGE_TEXT|error_message)\\b)"
                    + "|(\\b(SQLERRM|v_msg|p_message|error_message)\\b\\s*(LIKE|ILIKE|~|SIMILAR))");

    @Test
    void noSourceInspectsErrorMessageText() throws IOException {
        List<String> offending = new ArrayList<>();
        Path core = Path.of("src/main");
        Path server = Path.of("../server/src/main");
        assertThat(core.resolve("java/io/pgtrickle/core/api/RetryPolicy.java")).exists();
        for (Path root : List.of(core, server)) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(Files::isRegularFile).forEach(f -> scan(f, offending));
            }
        }
        assertThat(offending).as("decisions from message text (use the SQLSTATE)").isEmpty();
    }

    @Test
    void theCheckRecognisesWhatItForbids() {
        assertThat(JAVA_INSPECTION.matcher("if (e.getMessage().contains(\"deadlock\")) {").find()).isTrue();
        assertThat(JAVA_INSPECTED.matcher("retry = \"x\".equals(e.getMessage());").find()).isTrue();
        assertThat(SQL_INSPECTION.matcher("IF v_msg LIKE '%deadlock%' THEN").find()).isTrue();
        assertThat(SQL_INSPECTION.matcher("WHEN SQLERRM ~ 'lock' THEN").find()).isTrue();
        assertThat(JAVA_INSPECTION.matcher("log.warn(\"failed: {}\", e.getMessage());").find()).isFalse();
        assertThat(SQL_INSPECTION.matcher("PERFORM f(v_state, v_msg);").find()).isFalse();
    }

    private static void scan(Path file, List<String> offending) {
        String name = file.getFileName().toString();
        boolean java = name.endsWith(".java");
        if (!java && !name.endsWith(".sql")) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            // Looking for line breaks to lay a message out is display, not a decision.
            String code = line.replace(".contains(\"\\n\")", "");
            boolean bad = java
                    ? JAVA_INSPECTION.matcher(code).find() || JAVA_INSPECTED.matcher(code).find()
                    : SQL_INSPECTION.matcher(line.replaceAll("--.*", "")).find();
            if (bad) {
                offending.add(file + ":" + (i + 1) + ": " + line.strip());
            }
        }
    }
}
