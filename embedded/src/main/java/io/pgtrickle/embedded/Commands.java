package io.pgtrickle.embedded;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Small helpers for running short-lived OS commands (initdb, id, useradd, kill). */
final class Commands {

    private Commands() {}

    /** Exit code and combined stdout/stderr of a finished command. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * Runs {@code command} to completion. Output goes to a temporary file rather than a pipe, so a command
     * that hangs cannot block us beyond {@code timeout} (it is killed then).
     */
    static Result run(List<String> command, Path workingDirectory, Duration timeout) throws IOException {
        Path out = Files.createTempFile("pgtrickle-cmd-", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            if (workingDirectory != null) {
                pb.directory(workingDirectory.toFile());
            }
            scrubEnvironment(pb);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
            }
            boolean finished;
            try {
                finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + String.join(" ", command), e);
            }
            if (!finished) {
                p.destroyForcibly();
                throw new IOException("command timed out after " + timeout.toSeconds() + " s: "
                        + String.join(" ", command) + "\n" + tail(Files.readString(out, StandardCharsets.UTF_8), 20));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * Removes libpq/server environment variables (PGDATA, PGPORT, PGOPTIONS, ...) inherited from the user's shell:
     * they would silently change what initdb and postgres do.
     */
    static void scrubEnvironment(ProcessBuilder pb) {
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
    }

    /** Finds an executable in PATH and the usual sbin directories (which a JVM's PATH often lacks). */
    static Optional<Path> which(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(d, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The last {@code lines} lines of {@code text}, for error messages. */
    static String tail(String text, int lines) {
        String[] all = text.strip().split("\\R");
        int from = Math.max(0, all.length - lines);
        StringBuilder sb = new StringBuilder();
        if (from > 0) {
            sb.append("  [...]\n");
        }
        for (int i = from; i < all.length; i++) {
            sb.append("  ").append(all[i]).append('\n');
        }
        return sb.toString();
    }
}
