package io.pgtrickle.core.dvm.build;

import java.util.Comparator;
import java.util.List;
import net.sf.jsqlparser.parser.ASTNodeAccess;
import net.sf.jsqlparser.parser.SimpleNode;

/**
 * Text positions of parsed nodes. Expressions are always taken from the PostgreSQL-printed text by
 * position, never re-printed by the parser: PostgreSQL's spelling (operators such as {@code ~~},
 * casts, quoting) survives exactly.
 */
final class Spans {
    /** A half-open range of the parsed text. */
    record Span(int begin, int end) {
        String of(String text) {
            return text.substring(begin, end);
        }
    }

    /** A piece of text to put in place of a span. */
    record Replacement(Span span, String text) {
    }

    private Spans() {
    }

    /** The node's span, or null when the parser kept no position for it. */
    static Span of(Object node) {
        SimpleNode n = node instanceof ASTNodeAccess a ? a.getASTNode() : null;
        if (n == null || n.jjtGetFirstToken() == null || n.jjtGetLastToken() == null) {
            return null;
        }
        return new Span(n.jjtGetFirstToken().absoluteBegin - 1, n.jjtGetLastToken().absoluteEnd - 1);
    }

    /** {@code text} (which starts at {@code offset} of the parsed text) with the replacements applied. */
    static String replace(String text, int offset, List<Replacement> replacements) {
        // A replacement inside another (a column inside an aggregate call) goes with the outer one.
        List<Replacement> outer = replacements.stream()
                .filter(r -> replacements.stream().noneMatch(o -> o != r && o.span().begin() <= r.span().begin()
                        && r.span().end() <= o.span().end() && !o.span().equals(r.span())))
                .sorted(Comparator.comparingInt((Replacement r) -> r.span().begin()).reversed())
                .toList();
        StringBuilder b = new StringBuilder(text);
        for (Replacement r : outer) {
            b.replace(r.span().begin() - offset, r.span().end() - offset, r.text());
        }
        return b.toString();
    }
}
