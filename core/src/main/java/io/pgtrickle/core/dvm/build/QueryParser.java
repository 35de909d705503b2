package io.pgtrickle.core.dvm.build;

import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;

/**
 * The one way a query text reaches JSqlParser 5.3, with the three rewrites of PostgreSQL's text
 * that make it readable to that parser, in the order they apply:
 * <ol>
 * <li>{@link #prepared}: {@link ParserKeywords} quotes the names JSqlParser reserves. Once, on the
 *     text the tree builder then works on, and never undone: a quoted lower-case name means the same
 *     to PostgreSQL, so the expressions cut from that text and the SQL generated from them keep the
 *     quotes. It is the only rewrite that changes the text's length, so it comes first: the other
 *     two keep every position and are made on the text that positions refer to.</li>
 * <li>{@link #parse}, every time: {@link ParserText} blanks or renames, character for character,
 *     what JSqlParser cannot read but the clauses do not depend on. Only the parser sees it; nothing
 *     needs undoing, as every expression is cut by position from the text as it was.</li>
 * <li>{@link #parse}, only when that fails: {@link MaskedSublinks} replaces each scalar subquery
 *     followed by an operator by a call of the same length, then step 2 again. It is undone where
 *     the expression walkers meet such a call ({@link MaskedSublinks#unmask}): the subquery is
 *     parsed on its own by {@link #parseUnmasked}, with step 2 and without this fallback.</li>
 * </ol>
 */
final class QueryParser {
    private QueryParser() {
    }

    /** Step 1: the query text the builder works on (and cuts expressions from). */
    static String prepared(String query) {
        return ParserKeywords.quoted(query);
    }

    /** Steps 2 and 3: the statement of a prepared text. */
    static Statement parse(String sql) throws JSQLParserException {
        try {
            return parseUnmasked(sql);
        } catch (JSQLParserException e) {
            String masked = MaskedSublinks.mask(sql);
            if (masked == null) {
                throw e;
            }
            return parseUnmasked(masked);
        }
    }

    /** Step 2 only: a text, or a masked subquery on its own. */
    static Statement parseUnmasked(String sql) throws JSQLParserException {
        return CCJSqlParserUtil.parse(ParserText.of(sql));
    }
}
