package io.pgtrickle.core.dvm.op;

import java.util.List;

/** A FROM item: a table or a subquery (possibly grouped), under the alias the expressions use. */
public record SingleFrom(ItemOperator item, String alias) implements FromNode {
    @Override
    public List<SingleFrom> items() {
        return List.of(this);
    }

    @Override
    public Operator operator() {
        return item;
    }
}
