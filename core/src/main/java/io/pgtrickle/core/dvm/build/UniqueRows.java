package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.op.FromClause;
import io.pgtrickle.core.dvm.op.FromNode;
import io.pgtrickle.core.dvm.op.Join;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.arithmetic.Modulo;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * Whether every row of a SELECT over tables is unique by construction (docs/DIFFERENTIAL.md, "Rows
 * unique by a key"): its list names, as they are, all primary key columns of one table, and every
 * other table is joined by equalities that fix its whole primary key from the tables already
 * fixed, so a row of the first table meets at most one row of each other table. {@code events e
 * JOIN dims d ON d.k = e.k} selecting {@code e.id} is unique; selecting {@code d.k} alone is not.
 *
 * <p>Only inner joins, and only equalities whose other side is a column, a column's remainder by a
 * non-zero integer constant or an integer constant, over tables whose used columns print equal
 * values alike ({@link Scan#valueEqual}): an equality that converts a side to a coarser type (a
 * bigint key compared as a float) or compares text under another collation could let two key
 * values meet the same row. (A single table needs no equality, so its column types do not matter.)
 */
final class UniqueRows {
    private UniqueRows() {
    }

    static boolean of(PlainSelect p, FromClause from, String sql) {
        List<SingleFrom> items = from.root().items();
        // one table needs no equality; joined ones are compared by them
        if (!Conjuncts.innerJoins(from.root()) || items.stream().anyMatch(i -> !(i.item() instanceof Scan s) || s.key().isEmpty()
                || items.size() > 1 && !s.valueEqual())) {
            return false;
        }
        Set<String> selected = new HashSet<>();
        for (SelectItem<?> si : p.getSelectItems()) {
            if (si.getExpression() instanceof Column c) {
                SingleFrom item = item(c, items);
                if (item != null) {
                    selected.add(item.alias() + "." + TreeBuilder.unquote(c.getColumnName()));
                }
            }
        }
        List<Equality> equalities = new ArrayList<>();
        try {
            for (Expression conjunct : conjuncts(from.root(), p.getWhere(), new ArrayList<>())) {
                equality(conjunct, items, equalities);
            }
        } catch (JSQLParserException e) {
            return false;
        }
        for (SingleFrom first : items) {
            if (key(first).stream().allMatch(selected::contains) && fixesAll(first, items, equalities)) {
                return true;
            }
        }
        return false;
    }

    /** {@code column} (of {@code item}) = an expression over the tables in {@code reads}. */
    private record Equality(SingleFrom item, String column, Set<SingleFrom> reads) {
    }

    /** Whether, from {@code first}'s rows, the equalities fix one row of every other item. */
    private static boolean fixesAll(SingleFrom first, List<SingleFrom> items, List<Equality> equalities) {
        Set<SingleFrom> fixed = new LinkedHashSet<>(List.of(first));
        boolean grew = true;
        while (grew && fixed.size() < items.size()) {
            grew = false;
            for (SingleFrom item : items) {
                if (!fixed.contains(item) && key(item).stream().allMatch(k -> equalities.stream().anyMatch(e ->
                        e.item() == item && (e.item().alias() + "." + e.column()).equals(k) && fixed.containsAll(e.reads())))) {
                    fixed.add(item);
                    grew = true;
                }
            }
        }
        return fixed.size() == items.size();
    }

    private static List<String> key(SingleFrom item) {
        return ((Scan) item.item()).key().stream().map(k -> item.alias() + "." + k).toList();
    }

    /** The top-level conjuncts of every ON condition and of WHERE. */
    private static List<Expression> conjuncts(FromNode node, Expression where, List<Expression> out) throws JSQLParserException {
        if (node instanceof Join j) {
            conjuncts(j.left(), null, out);
            conjuncts(j.right(), null, out);
            if (j.on() != null) {
                Conjuncts.split(CCJSqlParserUtil.parseCondExpression(j.on()), out);
            }
        }
        if (where != null) {
            Conjuncts.split(where, out);
        }
        return out;
    }

    /** Records {@code a = b} in both directions where a side is a column and the other qualifies. */
    private static void equality(Expression conjunct, List<SingleFrom> items, List<Equality> out) {
        if (!(conjunct instanceof EqualsTo eq)) {
            return;
        }
        Expression left = Conjuncts.unwrapped(eq.getLeftExpression());
        Expression right = Conjuncts.unwrapped(eq.getRightExpression());
        for (Expression[] side : new Expression[][] {{left, right}, {right, left}}) {
            if (side[0] instanceof Column c && item(c, items) != null) {
                Set<SingleFrom> reads = reads(side[1], items);
                SingleFrom item = item(c, items);
                if (reads != null && !reads.contains(item)) {
                    out.add(new Equality(item, TreeBuilder.unquote(c.getColumnName()), reads));
                }
            }
        }
    }

    /** The items an expression reads: a column, a column's remainder by a non-zero integer, an integer; else null. */
    private static Set<SingleFrom> reads(Expression e, List<SingleFrom> items) {
        Expression x = Conjuncts.unwrapped(e);
        if (x instanceof LongValue) {
            return Set.of();
        }
        if (x instanceof Modulo m && Conjuncts.unwrapped(m.getRightExpression()) instanceof LongValue d && !d.getStringValue().matches("0+")) {
            x = Conjuncts.unwrapped(m.getLeftExpression());
        }
        SingleFrom item = x instanceof Column c ? item(c, items) : null;
        return item == null ? null : Set.of(item);
    }

    /** The item a column belongs to: by its alias, or the only item for a bare column; null if neither, or not its column. */
    private static SingleFrom item(Column c, List<SingleFrom> items) {
        if (c.getTable() != null && c.getTable().getSchemaName() != null) {
            return null;
        }
        String table = c.getTable() == null || c.getTable().getName() == null ? null : TreeBuilder.unquote(c.getTable().getName());
        List<SingleFrom> named = table == null ? (items.size() == 1 ? items : List.of())
                : items.stream().filter(i -> i.alias().equals(table)).toList();
        return named.size() == 1 && ((Scan) named.get(0).item()).columns().contains(TreeBuilder.unquote(c.getColumnName()))
                ? named.get(0) : null;
    }
}
