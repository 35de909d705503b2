package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.op.FromNode;
import io.pgtrickle.core.dvm.op.Join;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Parenthesis;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;

/** The parts of a condition its readers look at one by one: the conjuncts of AND, inside their parentheses. */
final class Conjuncts {
    private Conjuncts() {
    }

    /** The top-level conjuncts of {@code e}, added to {@code out}, each without its parentheses. */
    static List<Expression> split(Expression e, List<Expression> out) {
        Expression x = unwrapped(e);
        if (x instanceof AndExpression a) {
            split(a.getLeftExpression(), out);
            split(a.getRightExpression(), out);
        } else {
            out.add(x);
        }
        return out;
    }

    /** The expression inside parentheses, or itself. */
    static Expression unwrapped(Expression e) {
        if (e instanceof Parenthesis p) {
            return unwrapped(p.getExpression());
        }
        if (e instanceof ParenthesedExpressionList<?> l && l.size() == 1) {
            return unwrapped(l.get(0));
        }
        return e;
    }

    /** Whether a FROM tree is one item or inner (and cross) joins only: WHERE and ON then filter alike. */
    static boolean innerJoins(FromNode node) {
        return node instanceof SingleFrom
                || node instanceof Join j && (j.kind() == Join.Kind.INNER || j.kind() == Join.Kind.CROSS)
                        && innerJoins(j.left()) && innerJoins(j.right());
    }

    /**
     * The table item a column reference names: by its alias, or the only item for a bare column;
     * null when neither (or schema-qualified), or when the item is not a table scan of that column.
     */
    static SingleFrom scanOf(Column c, List<SingleFrom> items) {
        if (c.getTable() != null && c.getTable().getSchemaName() != null) {
            return null;
        }
        String table = c.getTable() == null || c.getTable().getName() == null ? null : TreeBuilder.unquote(c.getTable().getName());
        List<SingleFrom> named = table == null ? (items.size() == 1 ? items : List.of())
                : items.stream().filter(i -> i.alias().equals(table)).toList();
        return named.size() == 1 && named.get(0).item() instanceof Scan scan
                && scan.columns().contains(TreeBuilder.unquote(c.getColumnName())) ? named.get(0) : null;
    }
}
