package io.pgtrickle.embedded;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cleans up after JVMs that died without running their shutdown hooks (SIGKILL, e.g. a test fork killed on
 * timeout), which leaves a running postgres and a temporary data directory behind.
 *
 * <p>Each temporary directory holds an {@code owner} file with the pid and start time of the JVM that created it.
 * On every start, directories of the current OS user whose owner JVM is gone are cleaned: their postmaster (if
 * still running and recognisable as postgres serving that very directory) gets a fast shutdown, then the directory
 * is deleted. Live JVMs' directories and caller-supplied data directories are never touched.
 */
final class OrphanReaper {

    private static final Logger log = LoggerFactory.getLogger(OrphanReaper.class);
    private static final String OWNER = "owner";

    private OrphanReaper() {}

    static void writeOwner(Path tempDirectory) throws IOException {
        ProcessHandle me = ProcessHandle.current();
        Files.writeString(tempDirectory.resolve(OWNER), me.pid() + " " + startOf(me) + "\n", StandardCharsets.UTF_8);
    }

    private static String startOf(ProcessHandle h) {
        return h.info().startInstant().map(i -> Long.toString(i.toEpochMilli())).orElse("-");
    }

    /** Best effort: failures are logged as warnings and never prevent starting a new server. */
    static void reap() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        String me = System.getProperty("user.name");
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, EmbeddedPostgres.TEMP_PREFIX + "*")) {
            for (Path dir : dirs) {
                try {
                    if (Files.isDirectory(dir) && Files.getOwner(dir).getName().equals(me)) {
                        reapOne(dir);
                    }
                } catch (NoSuchFileException e) {
                    log.debug("{} vanished while cleaning it (another JVM cleaned it too)", dir);
                } catch (IOException | RuntimeException e) {
                    log.warn("could not clean up orphaned embedded PostgreSQL directory {}: {}", dir, e.toString());
                }
            }
        } catch (IOException e) {
            log.warn("could not look for orphaned embedded PostgreSQL directories in {}: {}", tmp, e.toString());
        }
    }

    private static void reapOne(Path dir) throws IOException {
        Path ownerFile = dir.resolve(OWNER);
        if (!Files.isRegularFile(ownerFile)) {
            return; // being created right now, or not ours
        }
        String[] owner = Files.readString(ownerFile, StandardCharsets.UTF_8).trim().split(" ");
        if (owner.length != 2) {
            return;
        }
        long ownerPid = Long.parseLong(owner[0]);
        Optional<ProcessHandle> ownerJvm = ProcessHandle.of(ownerPid);
        if (ownerJvm.isPresent() && ownerJvm.get().isAlive()
                && (owner[1].equals("-") || owner[1].equals(startOf(ownerJvm.get())))) {
            return; // its JVM is alive
        }
        Path data = dir.resolve("data");
        Path pidFile = data.resolve("postmaster.pid");
        if (Files.isRegularFile(pidFile)) {
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
            if (lines.size() >= 3) {
                long pid = Long.parseLong(lines.get(0).trim());
                Optional<ProcessHandle> postmaster = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
                if (postmaster.isPresent() && !startedWith(postmaster.get(), lines.get(2).trim())) {
                    // The pid was reused: another process (possibly another JVM's postgres) has it now.
                    log.info("orphaned PostgreSQL of {} is gone (pid {} now belongs to another process)", dir, pid);
                    postmaster = Optional.empty();
                }
                if (postmaster.isPresent()) {
                    boolean isPostgres = postmaster.get().info().command()
                            .map(c -> c.endsWith("/postgres")).orElse(false);
                    if (!isPostgres || !lines.get(1).trim().equals(data.toString())) {
                        log.warn("not cleaning {}: pid {} from its postmaster.pid is alive but is not its server",
                                dir, pid);
                        return;
                    }
                    log.info("stopping orphaned PostgreSQL (pid {}) left by dead JVM {} in {}", pid, ownerPid, dir);
                    if (!stop(postmaster.get())) {
                        log.warn("orphaned PostgreSQL (pid {}) in {} did not stop; leaving it", pid, dir);
                        return;
                    }
                }
            }
        }
        log.info("deleting orphaned embedded PostgreSQL directory {}", dir);
        PostgresBinaries.deleteRecursively(dir);
    }

    /**
     * Whether the process started when the postmaster.pid says its server did (its third line, epoch
     * seconds): a pid in an orphan's postmaster.pid may since have been given to any other process,
     * such as the postgres of a JVM that is alive.
     */
    static boolean startedWith(ProcessHandle process, String startSeconds) {
        try {
            long written = Long.parseLong(startSeconds);
            return process.info().startInstant().map(i -> Math.abs(i.getEpochSecond() - written) <= 30).orElse(true);
        } catch (NumberFormatException e) {
            return true; // an unknown format: decide by the other checks, as before
        }
    }

    private static boolean stop(ProcessHandle postmaster) throws IOException {
        for (String signal : List.of("INT", "QUIT")) {
            Optional<Path> kill = Commands.which("kill");
            if (kill.isEmpty()) {
                return false;
            }
            Commands.run(List.of(kill.get().toString(), "-s", signal, Long.toString(postmaster.pid())), null,
                    Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (postmaster.isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while stopping orphaned PostgreSQL", e);
                }
            }
            if (!postmaster.isAlive()) {
                return true;
            }
        }
        return false;
    }
}
