package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * UNION, INTERSECT and EXCEPT, with or without ALL, at the top of the query: {@code B₁ op₁ B₂ op₂ …}.
 *
 * <h2>The delta</h2>
 * How many copies of a row the result holds depends only on how many copies of that same row
 * (equal as the set operation compares rows: NULLs alike, 1.0 = 1.00) each branch produces. So the
 * rows a change can affect are the rows changed in any branch, and for those rows the set
 * operation is evaluated again over the branches restricted to them — a condition on the whole row,
 * which every branch gets, and which commutes with every set operation — and replaces what is
 * stored for them. PostgreSQL evaluates the operation itself, so the multiplicities of INTERSECT
 * ALL and EXCEPT ALL and the value kept for equal rows are its own.
 *
 * @param branches     the branches, for their deltas: each an {@link ItemOperator} or a nested
 *                     SetOperation (PostgreSQL prints {@code A UNION B INTERSECT C} as
 *                     {@code A UNION (B INTERSECT C)}), whose changed rows are its branches' ones
 * @param branchTexts  the branches as written
 * @param operators    the operators between them as written ({@code UNION}, {@code EXCEPT ALL} …)
 * @param names        the query's output column names
 * @param types        the output column types (the branches' values are cast to them, so that equal
 *                     rows of branches of different types hash alike); null when not known
 */
public record SetOperation(List<Operator> branches, List<String> branchTexts, List<String> operators, List<String> names,
                           List<String> types) implements PartitionRecompute {
    public SetOperation {
        if (!branches.stream().allMatch(b -> b instanceof ItemOperator || b instanceof SetOperation)) {
            throw new IllegalArgumentException("a branch must be an item or a set operation");
        }
        branches = List.copyOf(branches);
        branchTexts = List.copyOf(branchTexts);
        operators = List.copyOf(operators);
        names = List.copyOf(names);
        types = types == null ? null : List.copyOf(types);
    }

    /** The engine's names of the output columns inside the recomputation: {@code __pgt_c0, …}. */
    private List<String> columnNames() {
        return IntStream.range(0, names.size()).mapToObj(i -> "__pgt_c" + i).toList();
    }

    @Override
    public List<List<String>> partitionings() {
        List<String> c = columnNames();
        return List.of(IntStream.range(0, c.size()).mapToObj(i -> types == null ? c.get(i) : c.get(i) + "::" + types.get(i))
                .toList());
    }

    @Override
    public String changedRows(String select, RowSource.Changes changes) {
        String alias = " __pgt_b(" + String.join(", ", columnNames()) + ", __pgt_w)";
        return "SELECT " + select + " FROM (" + branches.stream()
                .map(b -> "SELECT * FROM (" + (b instanceof ItemOperator i ? i.sql(changes)
                        : ((SetOperation) b).changedRows("*", changes)) + ")" + alias)
                .collect(Collectors.joining(" UNION ALL ")) + ") __pgt_d";
    }

    @Override
    public String query(String extra, String condition) {
        String alias = " __pgt_b(" + String.join(", ", columnNames()) + ")";
        StringBuilder chain = new StringBuilder();
        for (int i = 0; i < branchTexts.size(); i++) {
            if (i > 0) {
                chain.append(' ').append(operators.get(i - 1)).append(' ');
            }
            chain.append("(SELECT * FROM (").append(branchTexts.get(i)).append(")").append(alias)
                    .append(condition == null ? "" : " WHERE " + condition).append(')');
        }
        List<String> out = new ArrayList<>();
        List<String> c = columnNames();
        for (int i = 0; i < c.size(); i++) {
            out.add("__pgt_s." + c.get(i) + " AS " + Sql.quoteIdent(names.get(i)));
        }
        return "SELECT " + String.join(", ", out) + (extra.isEmpty() ? "" : ", " + extra) + " FROM (" + chain + ") __pgt_s";
    }

    @Override
    public String keyScope() {
        return "(" + branchTexts.get(0) + ") __pgt_b(" + String.join(", ", columnNames()) + ")";
    }

    @Override
    public List<String> columns() {
        return names;
    }

    @Override
    public List<Operator> inputs() {
        return List.copyOf(branches);
    }

    @Override
    public String describe() {
        return "SetOperation " + String.join(", ", operators);
    }

    @Override
    public String strategy() {
        return "row recompute (the operation re-evaluated for the changed rows only)";
    }
}
