package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.dvm.plan.ApplySql;
import io.pgtrickle.core.dvm.plan.CompiledQuery;
import io.pgtrickle.core.dvm.plan.Explain;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;

/**
 * A compiled query with its resolved mode and the statements the catalog stores for it;
 * {@code limitsCorrelatedReads}: compiled with {@link PgResolver#limitsCorrelatedReads()}.
 */
record Compilation(CompiledQuery query, RefreshMode mode, List<String> notices, String fullApplySql,
                   String diffApplySql, String explainText, String explainJson, String explainDot,
                   boolean limitsCorrelatedReads) {

    static Compilation of(QualifiedName table, CompiledQuery q, ModeResolution mode, int serverVersionNum,
                          boolean limitsCorrelatedReads) {
        String full = ApplySql.full(table, q.storageColumns(), q.fullSql(), serverVersionNum);
        String diff = q.differentialApplySql(table, serverVersionNum);
        String name = table.display();
        return new Compilation(q, mode.mode(), mode.notices(), full, diff,
                Explain.text(name, mode.mode().name(), q, diff), Explain.json(name, mode.mode().name(), q, diff),
                Explain.dot(name, q), limitsCorrelatedReads);
    }
}
