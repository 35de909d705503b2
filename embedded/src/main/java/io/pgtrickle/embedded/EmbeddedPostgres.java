package io.pgtrickle.embedded;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server running as a child process of this JVM, for tests, the demo and benchmarks.
 *
 * <p>Why: the project needs a real PostgreSQL 18 (logical decoding, prepared transactions, many connections)
 * everywhere, without Docker or an installation. The binaries come from the zonky jar on the class path and are
 * unpacked once into a cache (see {@link Builder#cacheDirectory}).
 *
 * <p>The server listens on 127.0.0.1 only, without a Unix socket, with trust authentication for the superuser
 * {@value #SUPERUSER}, and with settings that favour speed over durability ({@code fsync=off}, ...). When the JVM
 * runs as root, initdb and postgres run as the OS user {@code postgres} (or a {@code pgtrickle} system user created
 * on demand) through {@code runuser}, since PostgreSQL refuses to run as root.
 *
 * <p>{@link #close()} stops the server with a fast shutdown; a shutdown hook does the same when the JVM exits
 * normally or on Ctrl-C. A JVM killed with SIGKILL cannot run hooks and orphans its server: the next
 * {@code EmbeddedPostgres} started from the same {@code java.io.tmpdir} stops such orphans and deletes their
 * temporary data directories (only those of dead JVMs, and only temporary ones).
 *
 * <pre>{@code
 * try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
 *     pg.createDatabase("demo");
 *     try (Connection c = DriverManager.getConnection(pg.jdbcUrl("demo"))) { ... }
 * }
 * }</pre>
 */
public final class EmbeddedPostgres implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);

    static final String SUPERUSER = "postgres";
    private static final String HOST = "127.0.0.1";
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern SETTING_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int PORT_ATTEMPTS = 5;
    static final String TEMP_PREFIX = "pgtrickle-pg-";

    /** Defaults for tests: fast, not durable, with what logical decoding and 2PC need. */
    private static final Map<String, String> DEFAULT_SETTINGS = defaults();

    private final int port;
    private final String version;
    private final Path dataDirectory;
    private final Path logFile;
    private final Path tempDirectory; // owned by this instance and deleted on close; null for a caller's data dir
    private final Process process;
    private final long postmasterPid;
    private final ServerUser user;
    private final PostgresBinaries binaries;
    private final Thread shutdownHook;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedPostgres(int port, String version, Path dataDirectory, Path logFile, Path tempDirectory,
            Process process, long postmasterPid, ServerUser user, PostgresBinaries binaries) {
        this.port = port;
        this.version = version;
        this.dataDirectory = dataDirectory;
        this.logFile = logFile;
        this.tempDirectory = tempDirectory;
        this.process = process;
        this.postmasterPid = postmasterPid;
        this.user = user;
        this.binaries = binaries;
        this.shutdownHook = new Thread(this::stopFromShutdownHook, "pgtrickle-postgres-stop-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures and starts an {@link EmbeddedPostgres}. Not thread-safe; one builder may start several servers. */
    public static final class Builder {
        private int port;
        private Path dataDirectory;
        private Path cacheDirectory;
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {}

        /** TCP port on 127.0.0.1; 0 (the default) picks a free one, retrying if another process grabs it first. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535, got " + port);
            }
            this.port = port;
            return this;
        }

        /**
         * Keeps the cluster in {@code dir} (initdb runs if it is missing or empty) and does not delete it on close.
         * Default: a fresh temporary directory, deleted on close.
         */
        public Builder dataDirectory(Path dir) {
            this.dataDirectory = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** A server setting passed as {@code -c name=value}; overrides the test-friendly defaults. */
        public Builder setting(String name, String value) {
            Objects.requireNonNull(value, "value");
            if (name == null || !SETTING_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("invalid setting name: " + name);
            }
            if (name.equalsIgnoreCase("port")) {
                throw new IllegalArgumentException("use port(int) to choose the port");
            }
            settings.put(name.toLowerCase(java.util.Locale.ROOT), value);
            return this;
        }

        /**
         * Directory under which the binaries are unpacked and cached (as {@code postgres-<version>-<arch>}).
         * Default: {@code $PGTRICKLE_PG_CACHE}, else {@code ~/.cache/pgtrickle}; when the JVM is root,
         * {@code java.io.tmpdir}, because the unprivileged server user must be able to read it.
         */
        public Builder cacheDirectory(Path dir) {
            this.cacheDirectory = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Runs initdb if the data directory is empty, starts the server and waits until it accepts connections. */
        public EmbeddedPostgres start() throws IOException {
            long t0 = System.nanoTime();
            ServerUser user = ServerUser.current();
            PostgresBinaries binaries = PostgresBinaries.obtain(cacheDirectory, user);
            OrphanReaper.reap();
            Path temp = null;
            try {
                Path data;
                Path logFile;
                if (dataDirectory == null) {
                    temp = Files.createTempDirectory(TEMP_PREFIX);
                    // Searchable (not listable) by others: the server user must reach data/ inside.
                    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwx--x--x"));
                    OrphanReaper.writeOwner(temp);
                    data = temp.resolve("data");
                    Files.createDirectory(data);
                    logFile = temp.resolve("postgres.log");
                } else {
                    data = dataDirectory.toAbsolutePath().normalize();
                    Files.createDirectories(data);
                    logFile = data.resolve("postgres.log");
                }
                if (isEmpty(data)) {
                    user.own(data);
                    user.checkCanReach(data);
                    initdb(binaries, user, data);
                } else if (!Files.isRegularFile(data.resolve("PG_VERSION"))) {
                    throw new IOException("data directory " + data + " is neither empty nor a PostgreSQL cluster"
                            + " (no PG_VERSION)");
                }
                if (!Files.exists(logFile)) {
                    Files.createFile(logFile);
                    user.own(logFile);
                }
                Map<String, String> effective = new LinkedHashMap<>(DEFAULT_SETTINGS);
                effective.putAll(settings);
                EmbeddedPostgres pg = launch(binaries, user, data, logFile, temp, effective);
                log.info("PostgreSQL {} started on {}:{} in {} ms (data {}, log {}{})", pg.version, HOST, pg.port,
                        (System.nanoTime() - t0) / 1_000_000, data, logFile,
                        user.switched() ? ", OS user " + user.name() : "");
                return pg;
            } catch (IOException | RuntimeException | Error e) {
                if (temp != null) {
                    try {
                        PostgresBinaries.deleteRecursively(temp);
                    } catch (IOException cleanup) {
                        e.addSuppressed(cleanup);
                    }
                }
                throw e;
            }
        }

        private EmbeddedPostgres launch(PostgresBinaries binaries, ServerUser user, Path data, Path logFile,
                Path temp, Map<String, String> effective) throws IOException {
            int attempts = port == 0 ? PORT_ATTEMPTS : 1;
            for (int attempt = 1; ; attempt++) {
                int p = port == 0 ? freePort() : port;
                List<String> cmd = new ArrayList<>(List.of(binaries.bin("postgres").toString(),
                        "-D", data.toString(), "-p", Integer.toString(p)));
                effective.forEach((k, v) -> {
                    cmd.add("-c");
                    cmd.add(k + "=" + v);
                });
                long logStart = Files.size(logFile);
                ProcessBuilder pb = new ProcessBuilder(user.wrap(cmd))
                        .directory(data.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                Commands.scrubEnvironment(pb);
                Process process = pb.start();
                try {
                    Optional<String> version = awaitReady(process, p, data, logFile, logStart);
                    if (version.isPresent()) {
                        long pid = postmasterPid(data, process);
                        return new EmbeddedPostgres(p, version.get(), data, logFile, temp, process, pid, user,
                                binaries);
                    }
                } catch (IOException | RuntimeException e) {
                    try {
                        stopProcess(process, serverPid(process, user), user, binaries);
                    } catch (IOException | RuntimeException stop) {
                        e.addSuppressed(stop);
                    }
                    throw e;
                }
                String output = readFrom(logFile, logStart);
                boolean portTaken = output.contains("could not bind")
                        || output.contains("could not create any TCP/IP");
                if (!portTaken || attempt >= attempts) {
                    throw new IOException("PostgreSQL exited with code " + process.exitValue() + " during startup"
                            + (portTaken ? " (port " + p + " in use)" : "") + "; server log:\n"
                            + Commands.tail(output, 25));
                }
                log.debug("port {} was taken meanwhile, retrying on another port", p);
            }
        }
    }

    /**
     * Polls with JDBC until the server answers. Returns its version, or empty if the process exited first. Checks
     * {@code data_directory} so that another server that got the same port is not mistaken for ours.
     */
    private static Optional<String> awaitReady(Process process, int port, Path data, Path logFile, long logStart)
            throws IOException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        String url = "jdbc:postgresql://" + HOST + ":" + port + "/postgres";
        SQLException last = null;
        long sleep = 20;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return Optional.empty();
            }
            try (Connection c = connect(url);
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(
                            "SELECT current_setting('data_directory'), current_setting('server_version')")) {
                rs.next();
                if (sameDirectory(Path.of(rs.getString(1)), data)) {
                    return Optional.of(rs.getString(2));
                }
            } catch (SQLException e) {
                last = e; // not up yet: connection refused or "the database system is starting up"
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for PostgreSQL to start", e);
            }
            sleep = Math.min(200, sleep * 2);
        }
        IOException e = new IOException("PostgreSQL did not accept connections on " + HOST + ":" + port + " within "
                + STARTUP_TIMEOUT.toSeconds() + " s; server log:\n"
                + Commands.tail(readFrom(logFile, logStart), 25));
        if (last != null) {
            e.addSuppressed(last);
        }
        throw e;
    }

    private static boolean sameDirectory(Path reported, Path data) {
        if (reported.normalize().equals(data)) {
            return true;
        }
        try {
            return Files.isSameFile(reported, data);
        } catch (IOException e) {
            return false; // not readable by us: certainly not the directory we created
        }
    }

    static Connection connect(String url) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", SUPERUSER);
        props.setProperty("connectTimeout", "5");
        props.setProperty("ApplicationName", "pgtrickle-embedded");
        // The driver directly: no dependence on DriverManager's class loader lookup.
        Connection c = new org.postgresql.Driver().connect(url, props);
        if (c == null) {
            throw new SQLException("not a PostgreSQL JDBC URL: " + url);
        }
        return c;
    }

    private static void initdb(PostgresBinaries binaries, ServerUser user, Path data) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(binaries.bin("initdb").toString(), "-D", data.toString(),
                "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C", "--no-sync"));
        if (binaries.majorVersion() >= 18) {
            cmd.add("--no-data-checksums"); // on by default since 18; tests do not need them
        }
        long t0 = System.nanoTime();
        Commands.Result r = Commands.run(user.wrap(cmd), binaries.home(), Duration.ofMinutes(2));
        if (!r.ok()) {
            throw new IOException("initdb failed (exit " + r.exitCode() + ") for " + data + ":\n"
                    + Commands.tail(r.output(), 25));
        }
        log.debug("initdb {} took {} ms", data, (System.nanoTime() - t0) / 1_000_000);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return s.getLocalPort();
        }
    }

    /** The postmaster's pid from postmaster.pid; our child is {@code runuser} when the JVM is root. */
    private static long postmasterPid(Path data, Process process) throws IOException {
        List<String> lines = Files.readAllLines(data.resolve("postmaster.pid"), StandardCharsets.UTF_8);
        try {
            long pid = Long.parseLong(lines.get(0).trim());
            if (pid == process.pid()
                    || process.toHandle().children().anyMatch(h -> h.pid() == pid)) {
                return pid;
            }
            throw new IOException("postmaster.pid in " + data + " names pid " + pid
                    + ", which is not the server this JVM started (pid " + process.pid() + ")");
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            throw new IOException("cannot read the server pid from " + data.resolve("postmaster.pid"), e);
        }
    }

    /** The postmaster without reading postmaster.pid: runuser's only child when root, else our child itself. */
    private static long serverPid(Process process, ServerUser user) {
        if (!user.switched()) {
            return process.pid();
        }
        return process.toHandle().children().findFirst().map(ProcessHandle::pid).orElse(process.pid());
    }

    private static String readFrom(Path file, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(offset, len - 64 * 1024);
            byte[] buf = new byte[(int) Math.max(0, len - from)];
            f.seek(from);
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        }
    }

    /**
     * Fast shutdown: SIGINT to the postmaster (aborts open transactions, disconnects clients), then SIGQUIT
     * (immediate) and finally SIGKILL if it does not go away. Signals go to the postmaster itself, not to
     * {@code runuser}, which would turn them into SIGTERM (smart shutdown, waits for clients) and SIGKILL after 2 s.
     */
    private static void stopProcess(Process process, long pid, ServerUser user, PostgresBinaries binaries)
            throws IOException {
        Optional<ProcessHandle> postmaster = ProcessHandle.of(pid);
        if (!process.isAlive() && postmaster.map(h -> !h.isAlive()).orElse(true)) {
            return;
        }
        signal(pid, "INT", user, binaries);
        if (waitExit(process, postmaster, STOP_TIMEOUT)) {
            return;
        }
        log.warn("PostgreSQL (pid {}) ignored fast shutdown for {} s; sending SIGQUIT", pid, STOP_TIMEOUT.toSeconds());
        signal(pid, "QUIT", user, binaries);
        if (waitExit(process, postmaster, Duration.ofSeconds(10))) {
            return;
        }
        postmaster.ifPresent(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        if (!waitExit(process, postmaster, Duration.ofSeconds(10))) {
            throw new IOException("PostgreSQL (pid " + pid + ") did not stop, even after SIGKILL");
        }
    }

    private static boolean waitExit(Process process, Optional<ProcessHandle> postmaster, Duration timeout)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return false;
            }
            while (postmaster.isPresent() && postmaster.get().isAlive()) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(10);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping PostgreSQL", e);
        }
    }

    private static void signal(long pid, String signal, ServerUser user, PostgresBinaries binaries)
            throws IOException {
        Optional<java.nio.file.Path> kill = Commands.which("kill");
        List<String> cmd = kill.isPresent()
                ? List.of(kill.get().toString(), "-s", signal, Long.toString(pid))
                : user.wrap(List.of(binaries.bin("pg_ctl").toString(), "kill", signal, Long.toString(pid)));
        Commands.Result r = Commands.run(cmd, null, Duration.ofSeconds(10));
        if (!r.ok() && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IOException("cannot send SIG" + signal + " to PostgreSQL (pid " + pid + "): "
                    + r.output().strip());
        }
    }

    public int port() {
        return port;
    }

    public String host() {
        return HOST;
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/<database>?user=postgres}; no password needed (trust). */
    public String jdbcUrl(String database) {
        Objects.requireNonNull(database, "database");
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8)
                + "?user=" + SUPERUSER;
    }

    public String superuser() {
        return SUPERUSER;
    }

    /** The server's {@code server_version}, e.g. {@code 18.4}. */
    public String version() {
        return version;
    }

    /** The cluster directory (inside a temporary directory unless {@link Builder#dataDirectory} was given). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The server's log file (stdout and stderr of postgres); look here when something goes wrong. */
    public Path logFile() {
        return logFile;
    }

    /**
     * {@code CREATE DATABASE name}. The name must match {@code [a-z0-9_]{1,63}} so that it needs no quoting in
     * SQL or URLs and cannot be truncated by PostgreSQL.
     *
     * @throws IllegalArgumentException for an invalid name
     * @throws IllegalStateException if the server rejects it (e.g. it exists) or is closed
     */
    public void createDatabase(String name) {
        checkDatabaseName(name);
        if (closed.get()) {
            throw new IllegalStateException("server on port " + port + " is closed");
        }
        try (Connection c = connect(jdbcUrl("postgres")); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE \"" + name + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("CREATE DATABASE " + name + " failed on port " + port + ": "
                    + e.getMessage(), e);
        }
    }

    static void checkDatabaseName(String name) {
        if (name == null || !DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid database name '" + name
                    + "': use 1 to 63 characters from [a-z0-9_]");
        }
    }

    /**
     * Stops the server (fast shutdown) and deletes the temporary data directory, if this instance created it.
     * Idempotent.
     *
     * @throws UncheckedIOException if the server could not be stopped or the directory not deleted
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down and our hook is running or will run; stopping twice is harmless.
        }
        try {
            shutdown();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void shutdown() throws IOException {
        IOException failure = null;
        try {
            stopProcess(process, postmasterPid, user, binaries);
            log.info("PostgreSQL on port {} stopped", port);
        } catch (IOException e) {
            failure = e;
        }
        if (tempDirectory != null) {
            try {
                PostgresBinaries.deleteRecursively(tempDirectory);
            } catch (IOException e) {
                IOException wrapped = new IOException("cannot delete temporary data directory " + tempDirectory, e);
                if (failure == null) {
                    failure = wrapped;
                } else {
                    failure.addSuppressed(wrapped);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void stopFromShutdownHook() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            shutdown();
        } catch (IOException | RuntimeException e) {
            log.error("could not stop PostgreSQL on port {} (pid {}) at JVM exit", port, postmasterPid, e);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres[" + HOST + ":" + port + ", " + version + ", " + dataDirectory
                + (closed.get() ? ", closed" : "") + "]";
    }

    private static Map<String, String> defaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("listen_addresses", HOST);
        m.put("unix_socket_directories", "");
        m.put("fsync", "off");
        m.put("synchronous_commit", "off");
        m.put("full_page_writes", "off");
        m.put("max_connections", "300");
        m.put("shared_buffers", "128MB");
        m.put("wal_level", "logical");
        m.put("max_replication_slots", "20");
        m.put("max_wal_senders", "20");
        m.put("max_prepared_transactions", "20");
        m.put("log_min_messages", "warning");
        return java.util.Collections.unmodifiableMap(m);
    }
}
