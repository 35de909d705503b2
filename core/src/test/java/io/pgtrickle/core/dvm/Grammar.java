package io.pgtrickle.core.dvm;

import java.util.Locale;

/**
 * Which constructs the random query generators of {@link JoinPropertyTest} and
 * {@link RandomQueryTest} may use, from the system property {@code pgtrickle.joins.grammar}.
 */
enum Grammar {
    /**
     * What DIFFERENTIAL maintained before outer/semi/anti joins: inner (and cross) joins with ON,
     * WHERE without subqueries, GROUP BY aggregates with HAVING, DISTINCT, UNION ALL.
     */
    INNER,
    /**
     * Everything: outer joins (LEFT/RIGHT/FULL, nested), USING, NATURAL, EXISTS/IN/ANY/ALL, scalar
     * subqueries, grouped subqueries and CTEs in FROM, subqueries in the select list and HAVING of a
     * grouped query (the last three in {@link RandomQueryTest} only).
     */
    FULL;

    static Grammar fromSystemProperty() {
        return valueOf(System.getProperty("pgtrickle.joins.grammar", "full").trim().toUpperCase(Locale.ROOT));
    }
}
