package io.pgtrickle.core.dvm;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Two- and three-table joins: inner, LEFT, RIGHT, FULL, mixed and nested, USING and NATURAL,
 * self-joins, keyed and keyless tables with duplicates, join keys from 0..3 and NULL so that changes
 * collide, non-strict projections and filters over the padded side, and joins under DISTINCT and
 * aggregates. Random batches of inserts, key and non-key updates and deletes, some rolled back,
 * some with a rolled-back savepoint; after every batch DIFFERENTIAL == FULL == the query, and the
 * DIFFERENTIAL refresh must not fall back to FULL.
 *
 * <p>400 tries by default (the default build's 1,000 join cases are {@link JoinConvergencePropertyTest}'s:
 * each case here creates its tables and stream tables, and the shared session slows as cases pile
 * up); {@code -Dpgtrickle.joins.tries=N} sets them, and the long profile
 * ({@code mvn -B -pl core -am test -Plong-properties}) runs {@code pgtrickle.property.tries} (50,000).
 * {@code -Dpgtrickle.joins.grammar=inner} restricts the queries to inner joins with ON (see {@link Grammar}).
 */
class JoinPropertyTest {
    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    private static final Grammar GRAMMAR = Grammar.fromSystemProperty();
    private static TwinChecks twins;

    @BeforeContainer
    static void setUp() {
        twins = new TwinChecks(JoinPropertyTest.class);
    }

    @AfterContainer
    static void tearDown() throws SQLException {
        twins.close();
    }

    @Property(edgeCases = EdgeCasesMode.NONE) // the edge cases are mostly the simplest query, over and over
    @PropertyTries(systemProperty = "pgtrickle.joins.tries", tries = 400)
    void differentialEqualsFullEqualsTheQuery(@ForAll("scenarios") TwinScenario scenario) throws SQLException {
        String schema = "p" + SCHEMAS.incrementAndGet();
        try {
            String query = twins.setUp(schema, scenario);
            twins.createDifferential(schema, query);
            twins.createFullTwinAndRun(schema, query, scenario);
        } finally {
            twins.endCase(schema);
        }
    }

    // ---- scenarios ------------------------------------------------------------------------------

    /** A source table: its row id column, integer columns (the first is the join key k) and text columns. */
    record Table(String name, String id, List<String> ints, List<String> texts) {
        String value() {
            return ints.get(1);
        }

        List<String> columns() {
            List<String> out = new ArrayList<>();
            out.add(id);
            out.addAll(ints);
            out.addAll(texts);
            return out;
        }

        String ddl(boolean keyed) {
            return "CREATE TABLE {S}." + name + " (" + id + " int" + (keyed ? " PRIMARY KEY" : "")
                    + ints.stream().map(c -> ", " + c + " int").collect(Collectors.joining())
                    + texts.stream().map(c -> ", " + c + " text").collect(Collectors.joining()) + ")";
        }

        /** A row from four numbers: id 1..6, k 0..3 or NULL, value 0..5 or NULL, text 'a', 'b' or NULL. */
        String row(Row r) {
            List<String> vals = new ArrayList<>(List.of(String.valueOf(1 + r.id() % 6), key(r.k()), val(r.v())));
            if (!texts.isEmpty()) {
                vals.add(text(r.s()));
            }
            return "(" + String.join(", ", vals) + ")";
        }
    }

    record Row(int id, int k, int v, int s) {
    }

    static final Table A = new Table("a", "aid", List.of("k", "v"), List.of("s"));
    static final Table B = new Table("b", "bid", List.of("k", "w"), List.of());
    static final Table C = new Table("c", "cid", List.of("k", "w"), List.of("s"));
    static final List<Table> TABLES = List.of(A, B, C);

    static String key(int x) {
        return x % 5 == 4 ? "NULL" : String.valueOf(x % 5);
    }

    static String val(int x) {
        return x % 7 == 6 ? "NULL" : String.valueOf(x % 7);
    }

    static String text(int x) {
        return switch (x % 3) {
            case 0 -> "'a'";
            case 1 -> "'b'";
            default -> "NULL";
        };
    }

    enum Kind {
        INSERT, INSERT_TWICE, COPY_ROWS, UPDATE_ID, UPDATE_KEY, UPDATE_VALUE, BUMP_VALUE, UPDATE_TEXT, UPDATE_SAME,
        DELETE_BY_KEY, DELETE_ONE, DELETE_NULLS
    }

    /** One DML statement before it is bound to a table: {@code table} indexes the query's tables. */
    record Op(Kind kind, int table, Row row, int p, int q) {
        String render(Table t, boolean keyed) {
            String tn = "{S}." + t.name();
            String id = t.id();
            int from = 1 + p % 6;
            int to = 1 + q % 6;
            return switch (kind) {
                case INSERT -> "INSERT INTO " + tn + " VALUES " + t.row(row) + " ON CONFLICT DO NOTHING";
                case INSERT_TWICE -> "INSERT INTO " + tn + " VALUES " + t.row(row) + ", " + t.row(row) + " ON CONFLICT DO NOTHING";
                case COPY_ROWS -> "INSERT INTO " + tn + " SELECT " + (keyed ? id + " + 6, " : id + ", ")
                        + String.join(", ", t.columns().subList(1, t.columns().size())) + " FROM " + tn
                        + " WHERE k IS NOT DISTINCT FROM " + key(p) + " ON CONFLICT DO NOTHING";
                case UPDATE_ID -> "UPDATE " + tn + " SET " + id + " = " + to + " WHERE " + id + " = " + from
                        + " AND NOT EXISTS (SELECT 1 FROM " + tn + " x WHERE x." + id + " = " + to + ")";
                case UPDATE_KEY -> "UPDATE " + tn + " SET k = " + key(q) + " WHERE k IS NOT DISTINCT FROM " + key(p);
                case UPDATE_VALUE -> "UPDATE " + tn + " SET " + t.value() + " = " + val(q) + " WHERE k = " + key(p);
                case BUMP_VALUE -> "UPDATE " + tn + " SET " + t.value() + " = coalesce(" + t.value() + ", 0) + 1 WHERE "
                        + id + " = " + from;
                case UPDATE_TEXT -> t.texts().isEmpty()
                        ? "UPDATE " + tn + " SET " + t.value() + " = NULL WHERE " + id + " = " + from
                        : "UPDATE " + tn + " SET s = " + text(q) + " WHERE " + id + " = " + from;
                case UPDATE_SAME -> "UPDATE " + tn + " SET k = k WHERE " + id + " = " + from;
                case DELETE_BY_KEY -> "DELETE FROM " + tn + " WHERE k IS NOT DISTINCT FROM " + key(p);
                case DELETE_ONE -> "DELETE FROM " + tn + " WHERE ctid IN (SELECT ctid FROM " + tn + " WHERE " + id
                        + " = " + from + " LIMIT 1)";
                case DELETE_NULLS -> "DELETE FROM " + tn + " WHERE " + t.value() + " IS NULL";
            };
        }
    }

    /** A batch before its statements are bound to the query's tables. */
    record OpBatch(List<Op> ops, DmlBatch.Ending ending, int savepointAt) {
    }

    @Provide
    Arbitrary<TwinScenario> scenarios() {
        return Combinators.combine(Choices.arbitrary(40), Arbitraries.of(true, false).list().ofSize(3),
                        rows().list().ofMaxSize(6).list().ofSize(3), batches().list().ofMinSize(2).ofMaxSize(4))
                .as(JoinPropertyTest::scenario);
    }

    /** Rows of a source table (also {@link JoinConvergencePropertyTest}'s). */
    static Arbitrary<Row> rows() {
        return Combinators.combine(Arbitraries.integers().between(0, 20), Arbitraries.integers().between(0, 20),
                Arbitraries.integers().between(0, 20), Arbitraries.integers().between(0, 20)).as(Row::new);
    }

    /** Batches of DML before they are bound to a query's tables (also {@link JoinConvergencePropertyTest}'s). */
    static Arbitrary<OpBatch> batches() {
        Arbitrary<Op> op = Combinators.combine(
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(Kind.INSERT)), Tuple.of(1, Arbitraries.of(Kind.INSERT_TWICE)),
                        Tuple.of(1, Arbitraries.of(Kind.COPY_ROWS)), Tuple.of(1, Arbitraries.of(Kind.UPDATE_ID)),
                        Tuple.of(2, Arbitraries.of(Kind.UPDATE_KEY)), Tuple.of(2, Arbitraries.of(Kind.UPDATE_VALUE)),
                        Tuple.of(1, Arbitraries.of(Kind.BUMP_VALUE)), Tuple.of(1, Arbitraries.of(Kind.UPDATE_TEXT)),
                        Tuple.of(1, Arbitraries.of(Kind.UPDATE_SAME)), Tuple.of(2, Arbitraries.of(Kind.DELETE_BY_KEY)),
                        Tuple.of(2, Arbitraries.of(Kind.DELETE_ONE)), Tuple.of(1, Arbitraries.of(Kind.DELETE_NULLS))),
                Arbitraries.integers().between(0, 2), rows(), Arbitraries.integers().between(0, 20),
                Arbitraries.integers().between(0, 20)).as(Op::new);
        return Combinators.combine(op.list().ofMinSize(1).ofMaxSize(5),
                Arbitraries.frequency(Tuple.of(7, DmlBatch.Ending.COMMIT), Tuple.of(1, DmlBatch.Ending.ROLLBACK),
                        Tuple.of(2, DmlBatch.Ending.SAVEPOINT_ROLLED_BACK)),
                Arbitraries.integers().between(0, 4)).as(OpBatch::new);
    }

    static TwinScenario scenario(List<Integer> decisions, List<Boolean> keyed, List<List<Row>> rows, List<OpBatch> batches) {
        QueryGen gen = new QueryGen(new Choices(decisions), GRAMMAR);
        String query = gen.query();
        List<Table> used = new ArrayList<>(gen.tables);
        List<String> setup = new ArrayList<>();
        for (Table t : used) {
            int i = TABLES.indexOf(t);
            setup.add(t.ddl(keyed.get(i)));
            if (!rows.get(i).isEmpty()) {
                setup.add("INSERT INTO {S}." + t.name() + " VALUES "
                        + rows.get(i).stream().map(t::row).collect(Collectors.joining(", ")) + " ON CONFLICT DO NOTHING");
            }
        }
        List<DmlBatch> rendered = batches.stream().map(b -> new DmlBatch(b.ops().stream().map(o -> {
            Table t = used.get(o.table() % used.size());
            return o.render(t, keyed.get(TABLES.indexOf(t)));
        }).toList(), b.ending(), b.savepointAt())).toList();
        return new TwinScenario(setup, query, rendered);
    }

    /** Builds one join query from a sequence of decisions; option 0 is always the simplest. */
    static final class QueryGen {
        private final Choices ch;
        private final Grammar grammar;
        final Set<Table> tables = new LinkedHashSet<>();
        private final List<String> aliases = new ArrayList<>();
        private final List<Table> aliased = new ArrayList<>();
        private String style;

        QueryGen(Choices ch, Grammar grammar) {
            this.ch = ch;
            this.grammar = grammar;
        }

        String query() {
            String from = from();
            String where = ch.maybe(35) ? " WHERE " + filter() : "";
            int shape = ch.pick(20);
            if (shape < 9) {
                return "SELECT " + projection() + " FROM " + from + where;
            } else if (shape < 12) {
                return "SELECT DISTINCT " + projection() + " FROM " + from + where;
            } else if (shape < 18) {
                List<String> keys = new ArrayList<>();
                keys.add(groupKey());
                if (ch.maybe(25)) {
                    keys.add(groupKey());
                }
                keys = keys.stream().distinct().toList();
                List<String> select = new ArrayList<>();
                for (int i = 0; i < keys.size(); i++) {
                    select.add(keys.get(i) + " AS g" + (i + 1));
                }
                select.add(aggregates());
                String having = ch.maybe(20) ? " HAVING " + ch.of("count(*) > 1", "sum(" + col(1, true) + ") IS NULL",
                        "count(" + alias(1) + "." + table(1).id() + ") = 0", "max(" + col(0, true) + ") > 1") : "";
                return "SELECT " + String.join(", ", select) + " FROM " + from + where + " GROUP BY "
                        + String.join(", ", keys) + having;
            } else {
                return "SELECT " + aggregates() + " FROM " + from + where;
            }
        }

        // ---- FROM

        private String from() {
            style = grammar == Grammar.INNER ? "ON" : ch.of("ON", "ON", "USING", "NATURAL");
            int n = ch.maybe(45) ? 3 : 2;
            for (int i = 0; i < n; i++) {
                Table t = ch.of(TABLES);
                tables.add(t);
                aliases.add("t" + (i + 1));
                aliased.add(t);
            }
            if (n == 2) {
                return item(0) + join(0, 1, false);
            }
            if (ch.maybe(30)) { // t1 J (t2 J t3 ...) ...
                String inner = item(1) + join(1, 2, true);
                String jt = joinType(true);
                return item(0) + " " + jt + " (" + inner + ")" + joinTail(0, 1 + ch.pick(2), true, jt.contains("FULL"));
            }
            return item(0) + join(0, 1, true) + join(ch.pick(2), 2, true);
        }

        private String item(int i) {
            return "{S}." + aliased.get(i).name() + " " + aliases.get(i);
        }

        /** " JT item ON/USING .." for item r joined to a left side containing item l. */
        private String join(int l, int r, boolean chained) {
            if (style.equals("NATURAL")) {
                return " NATURAL " + joinType(false) + " " + item(r);
            }
            String jt = joinType(false);
            return " " + jt + " " + item(r) + joinTail(l, r, chained, jt.startsWith("FULL"));
        }

        private String joinTail(int l, int r, boolean chained, boolean full) {
            return switch (style) {
                case "NATURAL" -> "";
                case "USING" -> !chained && table(l) != A && table(r) != A && ch.maybe(40) ? " USING (k, w)" : " USING (k)";
                default -> " ON " + condition(l, r, full);
            };
        }

        /** The NATURAL prefix of a nested join is written by the caller; other styles the type only. */
        private String joinType(boolean beforeParenthesis) {
            String jt = grammar == Grammar.INNER ? "JOIN" : ch.of("JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN");
            return beforeParenthesis && style.equals("NATURAL") ? "NATURAL " + jt : jt;
        }

        /** A FULL JOIN needs at least one hash- or merge-joinable condition (PostgreSQL's restriction). */
        private String condition(int l, int r, boolean full) {
            String a = aliases.get(l);
            String b = aliases.get(r);
            Table ta = aliased.get(l);
            Table tb = aliased.get(r);
            return switch (ch.pick(7)) {
                case 0 -> a + ".k = " + b + ".k";
                case 1 -> a + ".k = " + b + ".k AND " + b + "." + tb.value() + " > 1";
                case 2 -> a + ".k = " + b + ".k AND " + a + "." + ta.value() + " > 1";
                case 3 -> full ? a + ".k = " + b + ".k AND " + b + ".k IS NOT NULL" : a + ".k IS NOT DISTINCT FROM " + b + ".k";
                case 4 -> a + "." + ta.id() + " = " + b + ".k";
                case 5 -> a + ".k = " + b + ".k AND " + a + "." + ta.value() + " < " + b + "." + tb.value();
                default -> a + "." + ta.value() + " = " + b + "." + tb.value();
            };
        }

        // ---- SELECT list, WHERE, GROUP BY

        private Table table(int i) {
            return aliased.get(Math.min(i, aliased.size() - 1));
        }

        private String alias(int i) {
            return aliases.get(Math.min(i, aliases.size() - 1));
        }

        private int anyItem() {
            return ch.pick(aliases.size());
        }

        /** A column of item i (the last one when out of range): its k or (value) its value column. */
        private String col(int i, boolean value) {
            return alias(i) + "." + (value ? table(i).value() : "k");
        }

        private String expression() {
            int i = anyItem();
            String a = alias(i);
            Table t = table(i);
            int j = anyItem();
            return switch (ch.pick(12)) {
                case 0 -> a + ".k";
                case 1 -> a + "." + t.id();
                case 2 -> a + "." + t.value();
                case 3 -> t.texts().isEmpty() ? a + ".k" : a + ".s";
                case 4 -> "coalesce(" + a + "." + t.value() + ", -1)";
                case 5 -> "(" + a + "." + t.id() + " IS NULL)";
                case 6 -> "CASE WHEN " + a + "." + t.id() + " IS NULL THEN 'pad' ELSE 'hit' END";
                case 7 -> t.texts().isEmpty() ? "coalesce(" + a + ".k, 9)" : "coalesce(" + a + ".s, 'none')";
                case 8 -> "coalesce(" + a + ".k, " + alias(j) + ".k)";
                case 9 -> a + ".k + " + alias(j) + "." + table(j).value();
                case 10 -> style.equals("ON") ? a + "." + t.value() + " IS NOT DISTINCT FROM " + alias(j) + ".k" : "k";
                default -> style.equals("ON") ? "(" + a + ".k IS NULL) = (" + alias(j) + ".k IS NULL)" : "coalesce(k, -1)";
            };
        }

        private String projection() {
            int n = 1 + ch.pick(4);
            List<String> exprs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                exprs.add(expression() + " AS c" + (i + 1));
            }
            return String.join(", ", exprs);
        }

        private String filter() {
            int i = anyItem();
            String a = alias(i);
            Table t = table(i);
            return switch (ch.pick(6)) {
                case 0 -> a + "." + t.id() + " IS NULL";
                case 1 -> a + "." + t.id() + " IS NOT NULL";
                case 2 -> "coalesce(" + a + "." + t.value() + ", 0) < 2";
                case 3 -> col(0, true) + " > 1 OR " + a + "." + t.value() + " IS NULL";
                case 4 -> a + ".k IN (1, 2)";
                default -> "NOT (" + a + ".k IS NOT DISTINCT FROM " + col(anyItem(), false) + ")";
            };
        }

        private String groupKey() {
            int i = anyItem();
            String a = alias(i);
            Table t = table(i);
            return switch (ch.pick(5)) {
                case 0 -> a + ".k";
                case 1 -> "coalesce(" + a + ".k, -1)";
                case 2 -> "(" + a + "." + t.id() + " IS NULL)";
                case 3 -> t.texts().isEmpty() ? a + "." + t.value() : a + ".s";
                default -> style.equals("ON") ? a + "." + t.value() + " % 2" : "k";
            };
        }

        private String aggregates() {
            int n = 1 + ch.pick(3);
            List<String> aggs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int j = anyItem();
                String a = alias(j);
                Table t = table(j);
                aggs.add(switch (ch.pick(8)) {
                    case 0 -> "count(*)";
                    case 1 -> "sum(" + a + "." + t.value() + ")";
                    case 2 -> "count(" + a + "." + t.value() + ")";
                    case 3 -> "min(" + a + "." + t.value() + ")";
                    case 4 -> "max(" + a + ".k)";
                    case 5 -> "sum(" + a + ".k)";
                    case 6 -> "count(" + a + "." + t.id() + ")";
                    default -> "avg(" + a + "." + t.value() + ")";
                } + " AS n" + (i + 1));
            }
            return String.join(", ", aggs);
        }
    }
}
