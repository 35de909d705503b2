package io.pgtrickle.embedded;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OS user that runs initdb and postgres.
 *
 * <p>PostgreSQL refuses to run as root. When the JVM is root (typical in containers and CI), the server runs
 * as the existing {@code postgres} account, or else as a system account {@code pgtrickle} created on demand,
 * and every command is wrapped in {@code runuser -u <user> --}. Otherwise commands run as the JVM's own user.
 */
record ServerUser(String name, Path runuser) {

    private static final Logger log = LoggerFactory.getLogger(ServerUser.class);
    private static final Duration SHORT = Duration.ofSeconds(30);
    static final String FALLBACK_ACCOUNT = "pgtrickle";

    private static ServerUser current;

    /** True if commands are run as another user than the JVM's. */
    boolean switched() {
        return runuser != null;
    }

    /** Wraps {@code command} so that it runs as this user. */
    List<String> wrap(List<String> command) {
        if (!switched()) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(command.size() + 4);
        wrapped.add(runuser.toString());
        wrapped.add("-u");
        wrapped.add(name);
        wrapped.add("--");
        wrapped.addAll(command);
        return wrapped;
    }

    /** Makes {@code path} owned by this user (no-op when not switched). */
    void own(Path path) throws IOException {
        if (!switched()) {
            return;
        }
        UserPrincipal principal = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(name);
        Files.setOwner(path, principal);
    }

    /**
     * Checks that this user can reach {@code dir}; every parent directory needs the search (x) permission.
     * Gives an actionable message instead of initdb's terse "Permission denied".
     */
    void checkCanReach(Path dir) throws IOException {
        if (!switched()) {
            return;
        }
        Commands.Result r = Commands.run(wrap(List.of("test", "-x", dir.toString())), null, SHORT);
        if (!r.ok()) {
            throw new IOException("the JVM runs as root, so PostgreSQL runs as OS user '" + name
                    + "', which cannot reach " + dir + ": every parent directory must be searchable by it"
                    + " (chmod o+x), e.g. use a directory under " + System.getProperty("java.io.tmpdir")
                    + (r.output().isBlank() ? "" : "\n" + Commands.tail(r.output(), 5)));
        }
    }

    /** Determines (once per JVM) which user runs PostgreSQL, creating the fallback account if necessary. */
    static synchronized ServerUser current() throws IOException {
        if (current == null) {
            current = detect();
        }
        return current;
    }

    private static ServerUser detect() throws IOException {
        if (!jvmIsRoot()) {
            return new ServerUser(System.getProperty("user.name"), null);
        }
        Path runuser = Commands.which("runuser").orElseThrow(() -> new IOException(
                "cannot run PostgreSQL as root: 'runuser' (util-linux) was not found in PATH, /usr/sbin or /sbin;"
                        + " install util-linux or run the JVM as a non-root user"));
        for (String candidate : List.of("postgres", FALLBACK_ACCOUNT)) {
            if (userExists(candidate)) {
                log.debug("JVM runs as root; PostgreSQL will run as OS user '{}'", candidate);
                return new ServerUser(candidate, runuser);
            }
        }
        Path useradd = Commands.which("useradd").orElseThrow(() -> new IOException(
                "cannot run PostgreSQL as root and there is no 'postgres' user; 'useradd' was not found to create"
                        + " the system user '" + FALLBACK_ACCOUNT + "'; create an unprivileged user 'postgres'"
                        + " or run the JVM as a non-root user"));
        log.info("JVM runs as root and there is no 'postgres' user: creating system user '{}'", FALLBACK_ACCOUNT);
        Commands.Result r = Commands.run(List.of(useradd.toString(), "--system", "--no-create-home",
                "--shell", "/usr/sbin/nologin", FALLBACK_ACCOUNT), null, SHORT);
        // Another JVM (parallel test fork) may have created it at the same moment: only the outcome matters.
        if (!userExists(FALLBACK_ACCOUNT)) {
            throw new IOException("cannot run PostgreSQL as root: useradd failed (exit " + r.exitCode() + "):\n"
                    + Commands.tail(r.output(), 10)
                    + "create an unprivileged user 'postgres' or run the JVM as a non-root user");
        }
        return new ServerUser(FALLBACK_ACCOUNT, runuser);
    }

    private static boolean userExists(String user) throws IOException {
        return Commands.run(List.of("id", "-u", user), null, SHORT).ok();
    }

    /** The effective uid is the owner of /proc/self; user.name is only a fallback (it can lie in containers). */
    static boolean jvmIsRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return ((Integer) uid) == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
