package io.pgtrickle.core.dvm;

import java.util.List;

/**
 * One generated case of the random join and query properties: tables and rows, the defining query,
 * and the DML batches; {@code {S}} stands for the case's schema. Prints as a script, which is what
 * jqwik shows for the shrunk counterexample.
 */
record TwinScenario(List<String> setup, String query, List<DmlBatch> batches) {
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("\n-- schema {S}\n");
        setup.forEach(s -> sb.append(s).append(";\n"));
        sb.append("-- stream tables {S}.d (DIFFERENTIAL), {S}.f (FULL) and {S}.i (IMMEDIATE) over:\n").append(query).append(";\n");
        for (int i = 0; i < batches.size(); i++) {
            sb.append("-- batch ").append(i + 1).append(", IMMEDIATE compared after each statement, then refresh and compare all\n")
                    .append(batches.get(i)).append('\n');
        }
        return sb.toString();
    }
}
