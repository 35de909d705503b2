package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.op.FromClause;
import io.pgtrickle.core.dvm.op.FromNode;
import io.pgtrickle.core.dvm.op.Join;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.operators.arithmetic.Modulo;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * Whether every row of a SELECT over tables is unique by construction, and by which of its columns
 * (docs/DIFFERENTIAL.md, "Rows unique by a key"): its list names, as they are, all primary key
 * columns of one table, which then identify its rows, and every
 * other table is joined by equalities that fix its whole primary key from the tables already
 * fixed, so a row of the first table meets at most one row of each other table. {@code events e
 * JOIN dims d ON d.k = e.k} selecting {@code e.id} is unique; selecting {@code d.k} alone is not.
 *
 * <p>Only inner joins, and only equalities whose other side is a column of the key's type (or both
 * integers), a remainder of an integer column by a non-zero integer constant or an integer constant,
 * over tables whose used columns print equal values alike ({@link Scan#valueEqual}, so text compares
 * byte for byte): an equality that converts a side can map two keys to one value (a timestamp key
 * compared with a timestamptz in a daylight-saving gap, a bigint key compared as a float). A select
 * list that calls a function is left out: a set-returning one repeats rows whatever the key. (A
 * single table needs no equality, so its column types do not matter.)
 */
final class UniqueRows {
    private UniqueRows() {
    }

    /**
     * The select items (indexes from 0) that name the primary key of the table whose rows the
     * result's rows are, in key order; empty when rows can repeat.
     */
    static List<Integer> keyItems(PlainSelect p, FromClause from, String sql) {
        List<SingleFrom> items = from.root().items();
        // one table needs no equality; joined ones are compared by them
        if (!Conjuncts.innerJoins(from.root()) || items.stream().anyMatch(i -> !(i.item() instanceof Scan s) || s.key().isEmpty()
                || items.size() > 1 && !s.valueEqual())) {
            return List.of();
        }
        if (p.getSelectItems().stream().anyMatch(si -> callsFunction(si.getExpression()))) {
            return List.of();
        }
        Map<String, Integer> selected = new HashMap<>();
        for (int i = 0; i < p.getSelectItems().size(); i++) {
            if (p.getSelectItems().get(i).getExpression() instanceof Column c) {
                SingleFrom item = Conjuncts.scanOf(c, items);
                if (item != null) {
                    selected.putIfAbsent(item.alias() + "." + TreeBuilder.unquote(c.getColumnName()), i);
                }
            }
        }
        List<Equality> equalities = new ArrayList<>();
        try {
            for (Expression conjunct : conjuncts(from.root(), p.getWhere(), new ArrayList<>())) {
                equality(conjunct, items, equalities);
            }
        } catch (JSQLParserException e) {
            return List.of();
        }
        for (SingleFrom first : items) {
            if (key(first).stream().allMatch(selected::containsKey) && fixesAll(first, items, equalities)) {
                return key(first).stream().map(selected::get).toList();
            }
        }
        return List.of();
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
            SingleFrom item = side[0] instanceof Column c ? Conjuncts.scanOf(c, items) : null;
            Side other = item == null ? null : side(side[1], items);
            if (other != null && !other.reads().contains(item)
                    && exact(type(item, (Column) side[0]), other.type())) {
                out.add(new Equality(item, TreeBuilder.unquote(((Column) side[0]).getColumnName()), other.reads()));
            }
        }
    }

    /** The other side of an equality: the items it reads and its type ({@link #INTEGER} for an integer constant). */
    private record Side(Set<SingleFrom> reads, String type) {
    }

    private static final String INTEGER = "integer";
    private static final Set<String> INTEGERS = Set.of("smallint", INTEGER, "bigint");

    /**
     * Whether {@code =} between a key of type {@code key} and a value of type {@code other} matches at
     * most one key: the same type, or integers of any width. Other pairs are compared after one side is
     * converted, which can map two keys to one value (timestamp to timestamptz in a daylight-saving gap).
     */
    private static boolean exact(String key, String other) {
        return key != null && other != null && (key.equals(other) || INTEGERS.contains(key) && INTEGERS.contains(other));
    }

    /** A column, a column's remainder by a non-zero integer constant (integer columns), an integer constant; else null. */
    private static Side side(Expression e, List<SingleFrom> items) {
        Expression x = Conjuncts.unwrapped(e);
        if (x instanceof LongValue) {
            return new Side(Set.of(), INTEGER);
        }
        boolean remainder = false;
        if (x instanceof Modulo m && Conjuncts.unwrapped(m.getRightExpression()) instanceof LongValue d
                && !d.getStringValue().matches("0+")) {
            x = Conjuncts.unwrapped(m.getLeftExpression());
            remainder = true;
        }
        SingleFrom item = x instanceof Column c ? Conjuncts.scanOf(c, items) : null;
        if (item == null) {
            return null;
        }
        String type = type(item, (Column) x);
        return remainder && !INTEGERS.contains(type) ? null : new Side(Set.of(item), type);
    }

    private static String type(SingleFrom item, Column c) {
        return ((Scan) item.item()).types().get(TreeBuilder.unquote(c.getColumnName()));
    }

    /** Whether {@code e} calls a function: it may return a set, whose equal rows no key tells apart. */
    private static boolean callsFunction(Expression e) {
        boolean[] found = {false};
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(Function f, S context) {
                found[0] = true;
                return null;
            }
        }, null);
        return found[0];
    }
}
