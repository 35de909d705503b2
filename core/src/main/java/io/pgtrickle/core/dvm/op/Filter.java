package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * {@code Δσ_p(Q) = σ_p(ΔQ)}. An UPDATE arrives as a deletion of the old image and an insertion of
 * the new one, so a row crossing the predicate in either direction is handled by the same rule.
 * The predicate is rendered inside the SELECT it belongs to (see {@link Project}); this node shows
 * it in the tree.
 */
public record Filter(Operator input, String predicate) implements Operator {
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
        return "incremental (linear)";
    }
}
