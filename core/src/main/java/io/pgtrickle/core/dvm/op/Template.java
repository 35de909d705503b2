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
 *                 the end of a {@link Sublink#probe} subquery as {@code \u0002<i>\u0002}, i the slot of its table
 * @param sublinks the subqueries of the expression
 */
public record Template(String text, List<Sublink> sublinks) {
    private static final Pattern SLOT = Pattern.compile("([\u0001\u0002])(\\d+)\\1");

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
            Sublink owner = sublinks.stream().filter(s -> s.tables().stream().anyMatch(x -> x.slot() == slot))
                    .findFirst().orElseThrow();
            boolean probe = probes && owner.probe() && old.test(owner);
            String replacement;
            if (m.group(1).equals("\u0002")) {
                replacement = probe ? " OFFSET 0" : ""; // OFFSET keeps PostgreSQL from making EXISTS a join
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
}
