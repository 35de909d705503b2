package io.pgtrickle.server.cli;

import picocli.CommandLine.Option;

/** {@code --json} and {@code --verbose}, shared by every command; listed after each command's own options. */
final class OutputOptions {
    @Option(names = "--json", order = 101, description = "Print one JSON document on stdout instead of text.")
    boolean json;

    @Option(names = {"-v", "--verbose"}, order = 102,
            description = "Log what the engine does and show stack traces of errors.")
    boolean verbose;
}
