package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * {@code SELECT DISTINCT}, maintained by multiplicities: the stored row keeps in {@code __pgt_count}
 * how many input rows produce it. {@code count' = count + Σw}; a row appears when its count rises
 * above zero and disappears when it falls to zero.
 */
public record Distinct(LinearOperator input) implements Operator {
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
        return "Distinct";
    }

    @Override
    public String strategy() {
        return "incremental (reference counts in __pgt_count)";
    }
}
