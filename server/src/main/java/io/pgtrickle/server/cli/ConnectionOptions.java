package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTables;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --url}, shared by every command that talks to a database.
 *
 * <p>The {@value #URL_ENV} fallback is supplied by {@link Cli}'s default value provider rather than picocli's
 * {@code ${env:...}}, so tests can run with an environment of their own.
 */
final class ConnectionOptions {
    static final String URL_ENV = "PGTRICKLE_URL";
    private static final String PREFIX = "jdbc:postgresql:";

    // No ${DEFAULT-VALUE} in the description: the URL may carry a password.
    @Option(names = "--url", paramLabel = "JDBC_URL", order = 100,
            description = "JDBC URL of the database, e.g. jdbc:postgresql://localhost:5432/app?user=me "
                    + "(default: $" + URL_ENV + ")")
    String url;

    /** The facade for the URL given; fails as a usage error when there is none or it is not PostgreSQL's. */
    StreamTables connect(CommandSpec spec) {
        return StreamTables.connect(validUrl(spec));
    }

    /** The URL given, checked like {@link #connect}. */
    String validUrl(CommandSpec spec) {
        if (url == null || url.isBlank()) {
            throw new ParameterException(spec.commandLine(), "no database: give --url or set " + URL_ENV);
        }
        String u = url.strip();
        if (!u.startsWith(PREFIX)) {
            throw new ParameterException(spec.commandLine(), "not a PostgreSQL JDBC URL: " + redact(u)
                    + " (expected " + PREFIX + "//host:port/database)");
        }
        return u;
    }

    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }
}
