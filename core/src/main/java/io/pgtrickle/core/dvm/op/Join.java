package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * A join of two FROM nodes as the query writes it: {@code left <kind> JOIN right ON on} or
 * {@code USING (using)}. How a join's delta is formed is described on {@link FromClause}.
 *
 * @param on    the ON condition as PostgreSQL printed it, or null (USING, CROSS)
 * @param using the USING columns (NATURAL joins are printed by PostgreSQL as USING), or empty
 */
public record Join(Kind kind, FromNode left, FromNode right, String on, List<String> using) implements FromNode, Operator {
    /** The join kinds; comma joins are CROSS. */
    public enum Kind {
        INNER("JOIN"), CROSS("CROSS JOIN"), LEFT("LEFT JOIN"), RIGHT("RIGHT JOIN"), FULL("FULL JOIN");

        final String sql;

        Kind(String sql) {
            this.sql = sql;
        }
    }

    public Join {
        using = List.copyOf(using);
    }

    @Override
    public List<SingleFrom> items() {
        return FromNode.items(left, right);
    }

    @Override
    public Operator operator() {
        return this;
    }

    @Override
    public List<String> columns() {
        return items().stream().flatMap(i -> i.item().columns().stream().map(c -> i.alias() + "." + c)).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(left.operator(), right.operator());
    }

    @Override
    public String describe() {
        String name = switch (kind) {
            case INNER -> "InnerJoin";
            case CROSS -> "CrossJoin";
            case LEFT -> "LeftJoin";
            case RIGHT -> "RightJoin";
            case FULL -> "FullJoin";
        };
        String side = left.items().stream().map(SingleFrom::alias).reduce((a, b) -> a + "," + b).orElse("")
                + " ⋈ " + right.items().stream().map(SingleFrom::alias).reduce((a, b) -> a + "," + b).orElse("");
        String condition = on != null ? " ON " + on.replaceAll("\\s+", " ")
                : !using.isEmpty() ? " USING (" + String.join(", ", using) + ")" : "";
        return name + " " + side + condition;
    }

    @Override
    public String strategy() {
        return switch (kind) {
            case INNER, CROSS -> "incremental: ΔA⋈B¹ + A⁰⋈ΔB (bilinear, exact; a refresh of a join of up to four tables reads A⁰⋈ΔB as A¹⋈ΔB − ΔA⋈ΔB)";
            case LEFT, RIGHT -> FromClause.singleNullSupplier(this) != null
                    ? "incremental: Δ(preserved side) + preserved⁰ ⋈ Δ(partner) + NULL-padded rows of the preserved rows "
                            + "whose last partner vanished or first partner appeared"
                    : "incremental: Δ(preserved side) + rows of the preserved side whose partners changed, "
                            + "recomputed against the partners' states before and after";
            case FULL -> "incremental: rows whose side or partners changed, recomputed against both states";
        };
    }
}
