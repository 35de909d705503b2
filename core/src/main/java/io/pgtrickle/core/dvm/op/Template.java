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
 *                 after its closing parenthesis
 * @param sublinks the subqueries of the expression
 */
public record Template(String text, List<Sublink> sublinks) {
    private static final Pattern SLOT = Pattern.compile("([\u0001-\u0004])(\\d+)\\1");
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
            b.append(SLOT.matcher(t.text).replaceAll(m -> Matcher.quoteReplacement(
                    m.group(1) + (Integer.parseInt(m.group(2)) + shift) + m.group(1))));
            for (Sublink s : t.sublinks) {
                sublinks.add(new Sublink(s.tables().stream()
                        .map(x -> new Sublink.Table(x.slot() + shift, x.scan(), x.alias())).toList(), s.restriction(), s.probe()));
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
        return render(old, previous, false);
    }

    /**
     * As above; with {@code probes}, a {@link Sublink#probe} subquery reading the previous state is
     * kept a subplan run per outer row, so that the outer row's value reaches the table's index.
     * Otherwise PostgreSQL turns it into a semi join with the previous state, which it cannot probe
     * by index (a UNION ALL under a semi join is not flattened), and reads the whole table: for the
     * few rows a refresh re-evaluates, a probe each is far cheaper. Only where the caller knows the
     * outer rows are few (those with a changed partner).
     */
    public String render(Predicate<Sublink> old, RowSource.Old previous, boolean probes) {
        if (text == null || sublinks.isEmpty()) {
            return text;
        }
        Matcher m = SLOT.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            int slot = Integer.parseInt(m.group(2));
            Sublink owner = owner(slot);
            boolean probe = probes && owner.probe() && old.test(owner);
            String replacement;
            if (m.group(1).equals("\u0002")) {
                replacement = probe ? " OFFSET 0" : ""; // OFFSET keeps PostgreSQL from making EXISTS a join
            } else if (!m.group(1).equals("\u0001")) {
                replacement = "";
            } else {
                Sublink.Table t = owner.tables().stream().filter(x -> x.slot() == slot).findFirst().orElseThrow();
                String alias = Sql.quoteIdent(t.alias());
                // EXISTS asks whether a row exists, not how often: the rows need no repeating
                replacement = probe ? "(" + t.scan().sql(previous) + ") AS " + alias
                        : old.test(owner)
                        ? "(SELECT o.* FROM (" + t.scan().sql(previous) + ") o, pgtrickle._ordinals(1, o.__pgt_w)) AS " + alias
                        : t.scan().table() + " AS " + alias;
            }
            m.appendReplacement(b, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(b);
        return b.toString();
    }

    /**
     * A condition whose probe subqueries are computed apart: {@code text} reads each as
     * {@code <alias>.__pgt_e<i>}, and {@code columns} computes them ({@code EXISTS (...) AS __pgt_e<i>}).
     */
    public record Probed(String text, List<String> columns) {
    }

    /**
     * As {@link #render(Predicate, RowSource.Old, boolean)} with probes, each probe subquery over the
     * previous state taken out of the text, to be computed in a LATERAL subquery {@code alias}. A
     * condition on one item alone is evaluated where that item is scanned, on every one of its rows;
     * read from a LATERAL subquery, the probe runs only for the rows that reach the join with it, after
     * the restriction to the rows a change can matter to (the rest of the condition, join conditions
     * of comma joins included, stays where it is).
     */
    public Probed probed(Predicate<Sublink> old, RowSource.Old previous, String alias) {
        List<String> columns = new java.util.ArrayList<>();
        Matcher m = PROBE.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            int slot = Integer.parseInt(m.group(1));
            Sublink owner = owner(slot);
            String replacement = m.group(2);
            if (owner.probe() && old.test(owner)) {
                columns.add(new Template(m.group(2), sublinks).render(old, previous, true) + " AS __pgt_e" + slot);
                replacement = alias + ".__pgt_e" + slot;
            }
            m.appendReplacement(b, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(b);
        return new Probed(new Template(b.toString(), sublinks).render(old, previous, true), columns);
    }

    /** The subquery that reads the table of slot {@code slot}. */
    private Sublink owner(int slot) {
        return sublinks.stream().filter(s -> s.tables().stream().anyMatch(x -> x.slot() == slot)).findFirst().orElseThrow();
    }
}
