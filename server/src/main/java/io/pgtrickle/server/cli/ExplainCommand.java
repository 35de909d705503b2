package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "explain",
        description = "Show how a stream table is maintained: operators, strategies, fallback reason, refresh SQL.")
final class ExplainCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The stream table: 'table' or 'schema.table'.")
    String name;

    @Option(names = "--format", defaultValue = "text", paramLabel = "FORMAT",
            description = "text (default), json or dot (Graphviz). --json is the same as --format json.")
    String format;

    @Override
    protected int run(StreamTables db) {
        ExplainFormat f = output().json() ? ExplainFormat.JSON : switch (format.toLowerCase(java.util.Locale.ROOT)) {
            case "text" -> ExplainFormat.TEXT;
            case "json" -> ExplainFormat.JSON;
            case "dot" -> ExplainFormat.DOT;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--format must be text, json or dot, not '" + format + "'");
        };
        String text = db.explain(name, f);
        output().out().print(text.endsWith("\n") ? text : text + "\n");
        output().out().flush();
        return ExitCode.OK;
    }
}
