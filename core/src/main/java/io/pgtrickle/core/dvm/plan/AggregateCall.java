package io.pgtrickle.core.dvm.plan;

import java.util.Locale;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;

/**
 * An aggregate call classified by how it can be maintained. COUNT, SUM and AVG over exact numeric
 * types are invertible (new = old + inserted - deleted); MIN and MAX are only when the removed
 * values do not include the stored extreme; everything else needs its group recomputed.
 *
 * @param argument the argument as written, or null for count(*)
 */
record AggregateCall(Kind kind, String text, String argument) {
    enum Kind { COUNT_STAR, COUNT, SUM, AVG, MIN, MAX, OTHER }

    boolean algebraic() {
        return kind != Kind.OTHER;
    }

    /** Classifies the call's text; anything unusual (DISTINCT, ORDER BY, FILTER, WITHIN GROUP) is OTHER. */
    static AggregateCall classify(String text) {
        Expression e;
        try {
            e = CCJSqlParserUtil.parseExpression(text, false);
        } catch (Exception ex) {
            return new AggregateCall(Kind.OTHER, text, null);
        }
        if (!(e instanceof Function f) || f.isDistinct() || f.getOrderByElements() != null || f.isEscaped()) {
            return new AggregateCall(Kind.OTHER, text, null);
        }
        String name = f.getName().toLowerCase(Locale.ROOT).replace("pg_catalog.", "");
        if (name.equals("count") && f.isAllColumns()) {
            return new AggregateCall(Kind.COUNT_STAR, text, null);
        }
        if (f.getParameters() == null || f.getParameters().size() != 1) {
            return new AggregateCall(Kind.OTHER, text, null);
        }
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        if (open < 0 || close <= open || !text.substring(close + 1).isBlank()) {
            return new AggregateCall(Kind.OTHER, text, null);
        }
        String argument = text.substring(open + 1, close).strip();
        if (name.equals("count") && argument.equals("*")) {
            return new AggregateCall(Kind.COUNT_STAR, text, null);
        }
        Kind kind = switch (name) {
            case "count" -> Kind.COUNT;
            case "sum" -> Kind.SUM;
            case "avg" -> Kind.AVG;
            case "min" -> Kind.MIN;
            case "max" -> Kind.MAX;
            default -> Kind.OTHER;
        };
        return new AggregateCall(kind, text, kind == Kind.OTHER ? null : argument);
    }
}
