package io.pgtrickle.core.dvm;

import java.util.List;

/**
 * One transaction of generated DML ({@code {S}} stands for the case's schema): committed, rolled
 * back, or committed after rolling back to a savepoint taken before statement {@code savepointAt}
 * (equal to the size: after the last one). Prints as the SQL script it runs.
 */
record DmlBatch(List<String> statements, Ending ending, int savepointAt) {
    enum Ending { COMMIT, ROLLBACK, SAVEPOINT_ROLLED_BACK }

    DmlBatch {
        savepointAt = Math.max(0, Math.min(savepointAt, statements.size()));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("BEGIN;\n");
        for (int i = 0; i <= statements.size(); i++) {
            if (ending == Ending.SAVEPOINT_ROLLED_BACK && i == savepointAt) {
                sb.append("  SAVEPOINT sp;\n");
            }
            if (i < statements.size()) {
                sb.append("  ").append(statements.get(i)).append(";\n");
            }
        }
        return sb.append(switch (ending) {
            case COMMIT -> "COMMIT;";
            case ROLLBACK -> "ROLLBACK;";
            case SAVEPOINT_ROLLED_BACK -> "  ROLLBACK TO SAVEPOINT sp;\nCOMMIT;";
        }).toString();
    }
}
