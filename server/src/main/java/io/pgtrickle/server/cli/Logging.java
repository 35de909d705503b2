package io.pgtrickle.server.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Switches the engine's own logging (io.pgtrickle) between WARN and, with --verbose, INFO; the daemon logs more. */
final class Logging {
    private Logging() {
    }

    /** The daemon tells what it does (INFO: elections, pruning, failures); --verbose adds every refresh (DEBUG). */
    static void configureDaemon(boolean verbose) {
        if (LoggerFactory.getLogger("io.pgtrickle") instanceof Logger logger) {
            logger.setLevel(verbose ? Level.DEBUG : Level.INFO);
        }
    }

    static void configure(boolean verbose) {
        // Set both ways: tests run many commands in one JVM and one --verbose must not leak into the next.
        if (LoggerFactory.getLogger("io.pgtrickle") instanceof Logger logger) {
            logger.setLevel(verbose ? Level.INFO : Level.WARN);
        }
    }
}
