package io.pgtrickle.server.cli;

import picocli.CommandLine.Option;

/** {@code --json} and {@code --verbose}, shared by every command. */
final class OutputOptions {
    @Option(names = "--json", description = "Print one JSON document on stdout instead of text.")
    boolean json;

    @Option(names = {"-v", "--verbose"}, description = "Log what the engine does and show stack traces of errors.")
    boolean verbose;
}
