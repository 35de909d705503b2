package io.pgtrickle.server.cli;

import java.io.PrintWriter;

/** Entry point of the fat jar and of {@code bin/pgtrickle}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int code = Cli.run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), System::getenv, args);
        System.exit(code);
    }
}
