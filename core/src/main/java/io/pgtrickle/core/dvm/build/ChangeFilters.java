package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.FromClause;
import io.pgtrickle.core.dvm.op.FromNode;
import io.pgtrickle.core.dvm.op.Join;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.sf.jsqlparser.expression.ArrayConstructor;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.BooleanValue;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NotExpression;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.arithmetic.Modulo;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.Between;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.GreaterThan;
import net.sf.jsqlparser.expression.operators.relational.GreaterThanEquals;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.IsNullExpression;
import net.sf.jsqlparser.expression.operators.relational.MinorThan;
import net.sf.jsqlparser.expression.operators.relational.MinorThanEquals;
import net.sf.jsqlparser.expression.operators.relational.NotEqualsTo;
import net.sf.jsqlparser.schema.Column;

/**
 * The conjuncts of a WHERE clause by which a table's changes are filtered before they are netted
 * (docs/DIFFERENTIAL.md, "Filtered changes"): of 1,500 changed rows of which 150 pass the filter,
 * only those 150 are grouped and carried through the statement.
 *
 * <p>Netting first is what keeps the query's expressions from seeing a row inserted and deleted in
 * the same window, where one could raise an error the FULL query never raises. So only conditions
 * that cannot raise on any row qualify: comparisons, {@code IS [NOT] NULL}, {@code [NOT] IN} and
 * {@code BETWEEN} of the table's columns and constants (PostgreSQL's printed text has BETWEEN as two
 * comparisons, IN as {@code = ANY (ARRAY[...])} and NOT IN as {@code <> ALL (ARRAY[...])}), {@code AND}, {@code OR} and {@code NOT}, and
 * the remainder of a column divided by a non-zero integer constant; over a table whose columns are
 * all of built-in types whose equal values print alike ({@link Scan#valueEqual}), so no operator is
 * user-defined. A constant that fails to convert fails when PostgreSQL plans the statement, for FULL
 * too. And only in an inner join tree (or one table), where WHERE removes the rows it rejects from
 * every result, whatever the other tables hold.
 */
final class ChangeFilters {
    private ChangeFilters() {
    }

    /** {@code from} with each table's scan filtered by the conjuncts of {@code where} that qualify for it. */
    static FromClause apply(FromClause from, Expression where, String sql) {
        if (where == null || !Conjuncts.innerJoins(from.root())) {
            return from;
        }
        Conditions c = new Conditions(from.root().items(), sql);
        Map<SingleFrom, List<String>> conditions = new LinkedHashMap<>();
        for (Expression conjunct : Conjuncts.split(where, new ArrayList<>())) {
            List<SingleFrom> read = new ArrayList<>();
            String text = c.condition(conjunct, read);
            if (text != null && !read.isEmpty() && read.stream().distinct().count() == 1) {
                conditions.computeIfAbsent(read.get(0), k -> new ArrayList<>()).add(text);
            }
        }
        return conditions.isEmpty() ? from : new FromClause(filtered(from.root(), conditions));
    }

    /**
     * The text of conditions that cannot raise, or null for any other. The parser keeps no text
     * position for AND, OR, NOT, IS NULL or parentheses, so a condition is written again from its
     * parts: the columns, constants and comparisons in PostgreSQL's spelling, the connectives
     * around them, fully parenthesised.
     */
    private record Conditions(List<SingleFrom> items, String sql) {
        String condition(Expression e, List<SingleFrom> read) {
            Expression x = Conjuncts.unwrapped(e);
            if (x instanceof AndExpression a) {
                return both(condition(a.getLeftExpression(), read), " AND ", condition(a.getRightExpression(), read));
            }
            if (x instanceof OrExpression o) {
                return both(condition(o.getLeftExpression(), read), " OR ", condition(o.getRightExpression(), read));
            }
            if (x instanceof NotExpression n) {
                String inner = condition(n.getExpression(), read);
                return inner == null ? null : "(NOT " + inner + ")";
            }
            if (x instanceof EqualsTo || x instanceof NotEqualsTo || x instanceof GreaterThan || x instanceof GreaterThanEquals
                    || x instanceof MinorThan || x instanceof MinorThanEquals) {
                BinaryExpression b = (BinaryExpression) x;
                String list = constants(b.getRightExpression(), x instanceof EqualsTo ? "ANY" : x instanceof NotEqualsTo ? "ALL" : null);
                if (list != null) { // x IN (...) and x NOT IN (...), as PostgreSQL prints them
                    return both(operand(b.getLeftExpression(), read), " " + b.getStringExpression() + " ", list);
                }
                return both(operand(b.getLeftExpression(), read), " " + b.getStringExpression() + " ",
                        operand(b.getRightExpression(), read));
            }
            if (x instanceof IsNullExpression n) {
                String operand = operand(n.getLeftExpression(), read);
                return operand == null ? null : "(" + operand + (n.isNot() ? " IS NOT NULL)" : " IS NULL)");
            }
            if (x instanceof Between b) {
                String operand = operand(b.getLeftExpression(), read);
                String low = constant(b.getBetweenExpressionStart());
                String high = constant(b.getBetweenExpressionEnd());
                return operand == null || low == null || high == null ? null
                        : "(" + operand + (b.isNot() ? " NOT" : "") + " BETWEEN " + low + " AND " + high + ")";
            }
            if (x instanceof InExpression in && in.getRightExpression() instanceof ExpressionList<?> list && !list.isEmpty()) {
                String operand = operand(in.getLeftExpression(), read);
                List<String> values = list.stream().map(this::constant).toList();
                return operand == null || values.contains(null) ? null
                        : "(" + operand + (in.isNot() ? " NOT IN (" : " IN (") + String.join(", ", values) + "))";
            }
            if (x instanceof BooleanValue) {
                return text(x);
            }
            return x instanceof Column c ? column(c, read) : null;
        }

        /**
         * {@code ANY (ARRAY[constants])} (or ALL) when {@code e} is that, which the parser reads as a call
         * of a function named ANY; else null.
         */
        private String constants(Expression e, String quantifier) {
            if (quantifier == null || !(Conjuncts.unwrapped(e) instanceof Function f) || !quantifier.equalsIgnoreCase(f.getName())
                    || f.getParameters() == null || f.getParameters().size() != 1
                    || !(f.getParameters().get(0) instanceof ArrayConstructor array) || array.getExpressions() == null
                    || array.getExpressions().isEmpty()) {
                return null;
            }
            List<String> values = array.getExpressions().stream().map(this::constant).toList();
            return values.contains(null) ? null : quantifier + " (ARRAY[" + String.join(", ", values) + "])";
        }

        /** A column, a constant, or a column's remainder by a non-zero integer constant. */
        private String operand(Expression e, List<SingleFrom> read) {
            Expression x = Conjuncts.unwrapped(e);
            if (x instanceof Modulo m) {
                return Conjuncts.unwrapped(m.getRightExpression()) instanceof LongValue divisor && !divisor.getStringValue().matches("0+")
                        && Conjuncts.unwrapped(m.getLeftExpression()) instanceof Column c
                        ? both(column(c, read), " % ", text(divisor)) : null;
            }
            String constant = constant(x);
            return constant != null ? constant : x instanceof Column c ? column(c, read) : null;
        }

        /** A constant (a cast of one too: PostgreSQL converts it when it plans the statement, for FULL as well). */
        private String constant(Expression e) {
            Expression x = Conjuncts.unwrapped(e);
            boolean constant = x instanceof CastExpression cast ? constant(cast.getLeftExpression()) != null
                    : x instanceof SignedExpression s ? Conjuncts.unwrapped(s.getExpression()) instanceof LongValue
                            || Conjuncts.unwrapped(s.getExpression()) instanceof DoubleValue
                    : x instanceof LongValue || x instanceof DoubleValue || x instanceof StringValue || x instanceof NullValue
                            || x instanceof BooleanValue;
            return constant ? text(x) : null;
        }

        /** The text of a node with a position; null without one. */
        private String text(Expression e) {
            Span span = Spans.of(e);
            return span == null ? null : span.of(sql);
        }

        private static String both(String left, String operator, String right) {
            return left == null || right == null ? null : "(" + left + operator + right + ")";
        }

        /**
         * The text of {@code c} when it is a column of one table item whose changes can be filtered:
         * named with the item's alias, or bare when the FROM clause has one item; else null.
         */
        private String column(Column c, List<SingleFrom> read) {
            SingleFrom item = Conjuncts.scanOf(c, items);
            if (item == null || !((Scan) item.item()).valueEqual()) {
                return null;
            }
            read.add(item);
            return text(c);
        }
    }

    private static FromNode filtered(FromNode node, Map<SingleFrom, List<String>> conditions) {
        if (node instanceof SingleFrom s) {
            List<String> c = conditions.get(s);
            return c == null ? s : new SingleFrom(((Scan) s.item()).filtered(new Scan.ChangeFilter(s.alias(),
                    String.join(" AND ", c))), s.alias());
        }
        Join j = (Join) node;
        return new Join(j.kind(), filtered(j.left(), conditions), filtered(j.right(), conditions), j.on(), j.using());
    }
}
