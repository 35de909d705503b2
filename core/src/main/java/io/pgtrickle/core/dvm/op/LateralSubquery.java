package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A LATERAL subquery in FROM ({@code JOIN LATERAL (SELECT ... FROM b WHERE b.k = a.k ORDER BY ...
 * LIMIT 3) s ON true}, also under LEFT JOIN). Its rows depend on the FROM items before it that it
 * names and on the tables it reads, so it is a non-linear input of its SELECT (a unit, like a
 * subquery in WHERE): a changed row of an item before it re-runs the subquery for that row, in that
 * item's term of the delta; a change to the subquery's own tables re-runs it, against their state
 * before and after the window, for the rows a changed row can matter to (for a subquery over one
 * table: a changed row satisfies its WHERE for that row). PostgreSQL evaluates it as written.
 *
 * @param body    the subquery, its tables as slots (one {@link Sublink})
 * @param columns its output column names
 */
public record LateralSubquery(Template body, List<String> columns) implements ItemOperator {
    public LateralSubquery {
        columns = List.copyOf(columns);
    }

    /** The tables it reads and how a change of theirs is matched to the rows before it. */
    public Sublink sublink() {
        return body.sublinks().get(0);
    }

    /** Each row with weight 1; over the previous state the tables are read as they were (rows repeated to their multiplicity). */
    @Override
    public String sql(RowSource rows) {
        String text = rows instanceof RowSource.Old old ? body.render(s -> true, old) : body.written();
        return ItemOperator.unitWeight("(" + text + ")", columns);
    }

    @Override
    public List<Operator> inputs() {
        return List.of();
    }

    @Override
    public String describe() {
        return "LateralSubquery (" + String.join(", ", columns) + ") over "
                + sublink().tables().stream().map(t -> t.scan().table()).distinct().collect(Collectors.joining(", "));
    }

    @Override
    public String strategy() {
        return "re-run for the changed rows before it, and for the rows a change of its tables can matter to";
    }
}
