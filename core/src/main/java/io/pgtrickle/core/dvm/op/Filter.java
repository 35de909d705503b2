package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * {@code Δσ_p(Q) = σ_p(ΔQ)}. An UPDATE arrives as a deletion of the old image and an insertion of
 * the new one, so a row crossing the predicate in either direction is handled by the same rule.
 * The predicate is rendered inside the SELECT it belongs to (see {@link Project}); this node shows
 * it in the tree.
 */
public record Filter(Operator input, String predicate, boolean subqueries) implements Operator {
    public Filter(Operator input, String predicate) {
        this(input, predicate, false);
    }

    @Override
    public List<String> columns() {
        return input.columns();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(input);
    }

    @Override
    public String describe() {
        return "Filter " + predicate.replaceAll("\\s+", " ");
    }

    @Override
    public String strategy() {
        return subqueries ? "subqueries: evaluated by PostgreSQL against the state before and after the window,"
                + " for the rows a changed row can matter to" : "incremental (linear)";
    }
}
