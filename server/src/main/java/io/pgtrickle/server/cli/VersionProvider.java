package io.pgtrickle.server.cli;

import io.pgtrickle.core.catalog.CatalogInstaller;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code --version}: the release, the catalog version it installs, and the Java running it. */
final class VersionProvider implements IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {
            "pgtrickle " + release(),
            "catalog version " + CatalogInstaller.latestVersion(),
            "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
        };
    }

    /** From the Maven descriptor the jar plugin puts into every jar (the pom cannot be changed to filter one in). */
    static String release() {
        try (InputStream in = VersionProvider.class.getResourceAsStream(
                "/META-INF/maven/io.pgtrickle/pgtrickle-server/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "development build");
            }
        } catch (IOException e) {
            // fall through: a version string is not worth failing for
        }
        return "development build";
    }
}
