package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An expression of the user's query (select list, WHERE) as PostgreSQL text, in which each table
 * read by a subquery is a slot. Rendered as written, a slot is the table itself; rendered for the
 * previous state, a slot is the table's old rows.
 *
 * @param text     the text, a slot written as {@code \u0001<i>\u0001}, i the slot number of a {@link Sublink.Table};
 *                 a {@link Sublink#probe} subquery (i the slot of its table) starts with {@code \u0003<i>\u0003}
 *                 at its EXISTS, has {@code \u0002<i>\u0002} where its SELECT ends and {@code \u0004<i>\u0004}
 *                 after its closing parenthesis; an {@code x IN (subquery)} conjunct of WHERE (i the slot of its
 *                 subquery's first table) is {@code \u0005<i>\u0005 x \u0006<i>\u0006 IN \u0007<i>\u0007(subquery)\u0008<i>\u0008}
 * @param sublinks the subqueries of the expression
 */
public record Template(String text, List<Sublink> sublinks) {
    /** Marks a table slot. */
    public static final String SLOT_MARK = "\u0001";
    /** Marks where a probe subquery's SELECT ends (OFFSET 0 goes there). */
    public static final String OFFSET_MARK = "\u0002";
    /** Marks where a probe subquery's EXISTS starts. */
    public static final String PROBE_START = "\u0003";
    /** Marks where a probe subquery's EXISTS ends. */
    public static final String PROBE_END = "\u0004";
    /** Marks where the left operand of an {@code x IN (subquery)} conjunct of WHERE starts. */
    public static final String IN_START = "\u0005";
    /** Marks where that left operand ends. */
    public static final String IN_LEFT_END = "\u0006";
    /** Marks where that subquery's parentheses start. */
    public static final String IN_SUBQUERY = "\u0007";
    /** Marks where they end. */
    public static final String IN_END = "\u0008";
    /** Any marker: its kind, then the slot. */
    private static final Pattern MARKER = Pattern.compile("([\u0001-\u0008])(\\d+)\\1");
    private static final Pattern IN = Pattern.compile("\u0005(\\d+)\u0005(.*?)\u0006\\1\u0006(.*?)\u0007\\1\u0007(.*?)\u0008\\1\u0008",
            Pattern.DOTALL);
    private static final Pattern PROBE = Pattern.compile("\u0003(\\d+)\u0003(.*?)\u0004\\1\u0004", Pattern.DOTALL);

    public Template {
        sublinks = List.copyOf(sublinks);
    }

    /** An expression without subqueries. */
    public static Template plain(String text) {
        return new Template(text, List.of());
    }

    /** The templates joined by {@code separator}, slots renumbered. */
    public static Template join(List<Template> parts, String separator) {
        StringBuilder b = new StringBuilder();
        List<Sublink> sublinks = new java.util.ArrayList<>();
        int base = 0;
        for (Template t : parts) {
            if (b.length() > 0) {
                b.append(separator);
            }
            int shift = base;
            b.append(MARKER.matcher(t.text).replaceAll(m -> Matcher.quoteReplacement(
                    m.group(1) + (Integer.parseInt(m.group(2)) + shift) + m.group(1))));
            for (Sublink s : t.sublinks) {
                sublinks.add(new Sublink(s.tables().stream()
                        .map(x -> x.at(x.slot() + shift)).toList(), s.restriction(), s.probe(), s.perRow()));
            }
            base += t.slots().size();
        }
        return new Template(b.toString(), sublinks);
    }

    public boolean isEmpty() {
        return text == null || text.isEmpty();
    }

    /** Every table slot, in slot order. */
    public List<Sublink.Table> slots() {
        return sublinks.stream().flatMap(s -> s.tables().stream()).toList();
    }

    /** The text as written: every subquery reads the tables as they are now. */
    public String written() {
        return render(s -> false, null);
    }

    /**
     * The text with the subqueries for which {@code old} holds reading the previous state (rows
     * expanded to their multiplicity), the others the tables as they are now.
     */
    public String render(Predicate<Sublink> old, RowSource.Old previous) {
        return render(old, previous, null);
    }

    /**
     * As above, each {@code x IN (subquery)} conjunct of WHERE that reads the previous state
     * evaluated as in {@link #existsPerRow}, after every item whose columns {@code anchor} reads is
     * joined (null: where PostgreSQL places it); in the terms of a refresh (an anchor and a
     * previous state given), a {@link Sublink#perRow} one in the current state too. The text as
     * written, and a FULL refresh, keep the IN.
     */
    public String render(Predicate<Sublink> old, RowSource.Old previous, String anchor) {
        if (text == null || sublinks.isEmpty()) {
            return text;
        }
        String in = IN.matcher(text).replaceAll(m -> {
            Sublink owner = owner(Integer.parseInt(m.group(1)));
            return Matcher.quoteReplacement(old.test(owner) || anchor != null && previous != null && owner.perRow()
                    ? anchored(existsPerRow(m.group(2), m.group(4)), anchor) : m.group(2) + m.group(3) + m.group(4));
        });
        return MARKER.matcher(in).replaceAll(m -> {
            if (!m.group(1).equals(SLOT_MARK)) {
                return ""; // where a probe subquery starts and ends: only probed() uses them
            }
            Sublink owner = owner(Integer.parseInt(m.group(2)));
            Sublink.Table t = table(Integer.parseInt(m.group(2)));
            String alias = Sql.quoteIdent(t.alias());
            return Matcher.quoteReplacement(old.test(owner)
                    ? "(" + previous.rows(t.scan(), t.correlation()) + ") AS " + alias
                    : t.scan().table() + " AS " + alias);
        });
    }

    /**
     * {@code left IN subquery}, a conjunct of WHERE, over the previous state: as an EXISTS with the
     * equality inside. As an IN (or an EXISTS it may pull up) it becomes a semi join with the
     * subquery, which PostgreSQL computes whole: a UNION ALL cannot be probed by a join's condition
     * (TPC-H Q20 computed its subquery, a line item aggregate per row, for all 80,000 part
     * suppliers of the previous state, to answer for 37 suppliers). An EXISTS that is not a
     * conjunct of its own stays a subplan, for which PostgreSQL plans two ways and keeps the one it
     * estimates cheaper for the rows it will run for: per row, with {@code left} pushed down into the
     * previous state's parts (through an index of the untouched rows where there is one), or hashed
     * once as the IN was (TPC-H Q18, which re-evaluates all 150,000 orders, took 8 s that way and
     * over 30 s per row). Same result: in WHERE, a NULL IN is a false one, and EXISTS is never NULL;
     * the operands keep their order, so the same {@code =} compares them.
     */
    private static String existsPerRow(String left, String subquery) {
        return "EXISTS (SELECT 1 FROM " + subquery + " __pgt_in(__pgt_v) WHERE (" + left + ") = __pgt_in.__pgt_v)";
    }

    /**
     * {@code condition} evaluated where every item that {@code anchor} (never NULL) reads is joined:
     * PostgreSQL evaluates a condition where all the items it reads are, so one on a single item runs
     * on every row of that item, before the joins and the other conditions have dropped the rows no
     * change can matter to (Q20: 1,000 suppliers instead of the 37 of the nation the query asks for),
     * and estimates how often it runs, for the choice above, from that item alone.
     */
    private static String anchored(String condition, String anchor) {
        return anchor == null ? "(" + condition + ") IS TRUE"
                : "CASE WHEN (" + anchor + ") IS NULL THEN NULL ELSE " + condition + " END";
    }

    /**
     * A condition whose probe subqueries are computed apart: {@code text} reads each as
     * {@code <alias>.__pgt_e<i>}, and {@code columns} computes them ({@code ... AS __pgt_e<i>}).
     */
    public record Probed(String text, List<String> columns) {
    }

    /**
     * As {@link #render} with each {@link Sublink#probe} subquery that reads the previous state
     * taken out of the text, to be computed in a LATERAL subquery {@code alias} of the term, and
     * probing the table's index per row. Otherwise PostgreSQL turns the EXISTS into a semi join with
     * the previous state, a UNION ALL it does not flatten there, and so reads and hashes the whole
     * table however few rows the term re-evaluates. A condition on one item alone is evaluated where
     * the item is scanned, on every one of its rows; read from a LATERAL subquery, the probe runs for
     * the rows that reach it after the restriction's semi join (a plan PostgreSQL picks, the probe's
     * cost being on every row it runs for). The previous state is split: the untouched rows, probed
     * through the index, or the changed rows as they were, read only when the outer row's value is
     * among theirs (a hashed lookup, so that each probe does not scan the changes). The rest is
     * rendered as by {@link #render(Predicate, RowSource.Old, String)} with {@code anchor}.
     */
    public Probed probed(Predicate<Sublink> old, RowSource.Old previous, String alias, String anchor) {
        List<String> columns = new java.util.ArrayList<>();
        String rest = PROBE.matcher(text).replaceAll(m -> {
            int slot = Integer.parseInt(m.group(1));
            Sublink owner = owner(slot);
            if (owner.probe() == null || !old.test(owner)) {
                return Matcher.quoteReplacement(m.group(2));
            }
            Sublink.Table t = table(slot);
            RowSource.Old.Parts parts = previous.parts(t.scan());
            String before = "SELECT * FROM (" + parts.changedBefore() + ") __pgt_b";
            columns.add("(" + probe(m.group(2), slot, parts.untouched()) + " OR (" + owner.probe().value() + ") IN (SELECT __pgt_g."
                    + Sql.quoteIdent(owner.probe().column()) + " FROM (" + before + ") __pgt_g) AND "
                    + probe(m.group(2), slot, before) + ") AS __pgt_e" + slot);
            return Matcher.quoteReplacement(alias + ".__pgt_e" + slot);
        });
        return new Probed(new Template(rest, sublinks).render(old, previous, anchor), columns);
    }

    /** The EXISTS {@code exists} of slot {@code slot} over {@code rows}, kept a subplan (OFFSET 0: not made a join). */
    private String probe(String exists, int slot, String rows) {
        Sublink.Table t = table(slot);
        return exists.replace(SLOT_MARK + slot + SLOT_MARK, "(" + rows + ") AS " + Sql.quoteIdent(t.alias()))
                .replace(OFFSET_MARK + slot + OFFSET_MARK, " OFFSET 0");
    }

    /** The subquery that reads the table of slot {@code slot}. */
    private Sublink owner(int slot) {
        return sublinks.stream().filter(s -> s.tables().stream().anyMatch(x -> x.slot() == slot)).findFirst().orElseThrow();
    }

    private Sublink.Table table(int slot) {
        return owner(slot).tables().stream().filter(x -> x.slot() == slot).findFirst().orElseThrow();
    }
}
