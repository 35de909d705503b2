package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.AnalyticType;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.operators.relational.ExistsExpression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.Select;

/**
 * What an expression contains that the compiler cares about: aggregate calls and column
 * references (with their spans), window function calls, subqueries, and constructs it cannot
 * maintain.
 */
final class ExpressionScan {
    /** An aggregate call or a column reference, with its text and span. */
    record Found(String text, Span span) {
    }

    final List<Found> aggregates = new ArrayList<>();
    final List<Found> columns = new ArrayList<>();
    /** Window function calls ({@code f(...) OVER ...}); only {@link #withWindows} accepts them. */
    final List<Found> windows = new ArrayList<>();
    /** Subqueries (EXISTS, IN, ANY/ALL, scalar), not looked into: their columns and aggregates are their own. */
    final List<Select> sublinks = new ArrayList<>();
    String unsupported;

    static ExpressionScan of(Expression e, String sql, Predicate<String> isAggregate) {
        ExpressionScan scan = withWindows(e, sql, isAggregate);
        if (scan.unsupported == null && !scan.windows.isEmpty()) {
            scan.unsupported = "window function " + scan.windows.get(0).text().replaceFirst("(?s)\\(.*", "")
                    + "() below the top of the query, or together with GROUP BY, aggregates or DISTINCT (a later release)";
        }
        return scan;
    }

    /** The same, window function calls accepted (the select list at the top of the query). */
    static ExpressionScan withWindows(Expression e, String sql, Predicate<String> isAggregate) {
        ExpressionScan scan = new ExpressionScan();
        if (e == null) {
            return scan;
        }
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(Function f, S context) {
                Select masked = MaskedSublinks.unmask(f, sql);
                if (masked != null) {
                    scan.sublinks.add(masked);
                    return null;
                }
                if (isAggregate.test(f.getName())) {
                    scan.add(scan.aggregates, f, sql, "aggregate " + f.getName());
                    return null; // its arguments belong to the aggregate
                }
                return super.visit(f, context);
            }

            @Override
            public <S> Void visit(AnalyticExpression a, S context) {
                if (a.getType() == AnalyticType.OVER || a.getType() == AnalyticType.WITHIN_GROUP_OVER) {
                    scan.add(scan.windows, a, sql, "window function " + a.getName());
                    return null;
                }
                scan.add(scan.aggregates, a, sql, "aggregate " + a.getName());
                return null;
            }

            @Override
            public <S> Void visit(Column c, S context) {
                scan.add(scan.columns, c, sql, "column " + c);
                return null;
            }

            @Override
            public <S> Void visit(ParenthesedSelect s, S context) {
                scan.sublinks.add(s);
                return null;
            }

            @Override
            public <S> Void visit(Select s, S context) {
                scan.sublinks.add(s);
                return null;
            }

            @Override
            public <S> Void visit(ExistsExpression x, S context) {
                return x.getRightExpression().accept(this, context);
            }

            @Override
            public <S> Void visit(AnyComparisonExpression x, S context) {
                scan.sublinks.add(x.getSelect());
                return null;
            }
        }, null);
        return scan;
    }

    private void add(List<Found> into, Object node, String sql, String what) {
        Span span = Spans.of(node);
        if (span == null) {
            unsupported = "cannot locate " + what + " in the query text";
            return;
        }
        Found found = new Found(span.of(sql), span);
        if ((into == aggregates || into == windows) && SublinkTemplates.countSelects(found.text()) > 0) {
            // its tables would not be seen as inputs of the group (their changes would be missed)
            unsupported = "a subquery inside the arguments or FILTER of " + what;
        }
        into.add(found);
    }
}
