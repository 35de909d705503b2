package io.pgtrickle.core.tpch;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The statements of one cycle of changes to a loaded TPC-H database: the refresh functions RF1
 * (new orders with their line items, keyed above every existing order) and RF2 (orders deleted
 * with their line items), and updates of non-key columns (prices, quantities, discounts, dates,
 * priorities, segments, costs, brands), of join keys (a line item's supplier, an order's customer,
 * a customer's, supplier's or nation's nation or region) and of primary keys (an order's key with
 * its line items', line numbers).
 *
 * <p>Which rows a statement touches and the values it writes are drawn by PostgreSQL from a
 * hash of the row's key and a salt ({@link #FUNCTION}); the salts come from the caller's seeded
 * {@link Random}, so a seed replays the same cycles on the same data. At scale factor SF, RF1 and
 * RF2 each touch about SF × 1,500 orders, as in the specification; an update touches between
 * 1/2000 and 1/20 of its table (or one nation).
 */
public final class TpchChanges {
    /** {@code tpch_rnd(key, salt, n)}: a number in [0, n) drawn from the key and the salt. */
    public static final String FUNCTION = """
            CREATE FUNCTION tpch_rnd(k bigint, salt bigint, n integer) RETURNS integer
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            RETURN (hashint8(k # (salt * 1000003)) & 2147483647) % n""";

    private static final Pattern WRITES = Pattern.compile("(?:INSERT INTO|UPDATE|DELETE FROM)\\s+(\\w+)");

    /** One statement of a cycle, with a short name for reports. */
    public record Change(String name, String sql) {
        /** The tables the statement writes. */
        public Set<String> writes() {
            Set<String> out = new TreeSet<>();
            Matcher m = WRITES.matcher(sql);
            while (m.find()) {
                out.add(m.group(1));
            }
            return out;
        }
    }

    private static final String LINE = "(l_orderkey::bigint * 64 + l_linenumber)";
    private static final String PARTSUPP = "(ps_partkey::bigint * 1000000 + ps_suppkey)";

    private TpchChanges() {
    }

    /**
     * The statements of cycle {@code cycle} (1, 2, …), given the largest order key before it;
     * RF2 is one statement over both tables (a writable CTE) in odd cycles and two statements
     * (line items, then orders, as the specification orders them) in even ones.
     */
    public static List<Change> cycle(int cycle, long maxOrderKey, Random random) {
        List<Change> out = new ArrayList<>();
        long rf1 = random.nextInt(1 << 20);
        String newOrders = String.format("""
                SELECT o_orderkey AS old_key, %1$d + row_number() OVER (ORDER BY o_orderkey) AS new_key,
                       tpch_rnd(o_orderkey, %2$d, 731) - 365 AS shift, tpch_rnd(o_orderkey, %2$d + 1, 4) = 0 AS big
                  FROM orders
                 WHERE o_orderkey <= %1$d AND tpch_rnd(o_orderkey, %2$d, 1000) = 0""", maxOrderKey, rf1);
        out.add(new Change("RF1: insert orders", String.format("""
                INSERT INTO orders
                SELECT m.new_key, o_custkey, 'O', o_totalprice, o_orderdate + m.shift, o_orderpriority, o_clerk,
                       o_shippriority, o_comment
                  FROM orders JOIN (%s) m ON m.old_key = o_orderkey""", newOrders)));
        // A quarter of the new orders are large: each template line seven times (line numbers n,
        // n + 100, …, n + 600), with a quantity near 50 on every line, to cross Q18's threshold.
        out.add(new Change("RF1: insert their line items", String.format("""
                INSERT INTO lineitem
                SELECT m.new_key, l_partkey, l_suppkey, l_linenumber + 100 * g, q.qty,
                       round(l_extendedprice / l_quantity * q.qty, 2), l_discount, l_tax, 'N', 'O',
                       l_shipdate + m.shift, l_commitdate + m.shift, l_receiptdate + m.shift,
                       l_shipinstruct, l_shipmode, l_comment
                  FROM lineitem JOIN (%s) m ON m.old_key = l_orderkey,
                       generate_series(0, CASE WHEN m.big THEN 6 ELSE 0 END) g,
                       LATERAL (SELECT CASE WHEN m.big THEN 48 + tpch_rnd(%s + g, %d, 3)
                                            ELSE 1 + tpch_rnd(%2$s, %3$d, 50) END AS qty) q""",
                newOrders, LINE, rf1 + 2)));
        long rf2 = random.nextInt(1 << 20);
        String gone = String.format("tpch_rnd(o_orderkey, %d, 1000) = 0", rf2);
        if (cycle % 2 == 1) {
            out.add(new Change("RF2: delete orders and their line items (one statement)", String.format("""
                    WITH gone AS (DELETE FROM orders WHERE %s RETURNING o_orderkey)
                    DELETE FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM gone)""", gone)));
        } else {
            out.add(new Change("RF2: delete line items of orders", String.format(
                    "DELETE FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM orders WHERE %s)", gone)));
            out.add(new Change("RF2: delete the orders", "DELETE FROM orders WHERE " + gone));
        }
        out.add(update("lineitem: quantity, price, discount, dates, return flag, ship mode", random, """
                UPDATE lineitem
                   SET l_quantity = 1 + tpch_rnd(%1$s, %2$d, 50),
                       l_extendedprice = round(l_extendedprice / l_quantity * (1 + tpch_rnd(%1$s, %2$d, 50)), 2),
                       l_discount = tpch_rnd(%1$s, %2$d + 1, 11) / 100.0,
                       l_shipdate = l_shipdate + (tpch_rnd(%1$s, %2$d + 2, 61) - 30),
                       l_commitdate = l_commitdate + (tpch_rnd(%1$s, %2$d + 3, 61) - 30),
                       l_receiptdate = l_receiptdate + (tpch_rnd(%1$s, %2$d + 4, 61) - 30),
                       l_returnflag = (ARRAY['R', 'A', 'N'])[1 + tpch_rnd(%1$s, %2$d + 5, 3)],
                       l_shipmode = (ARRAY['MAIL', 'SHIP', 'AIR', 'AIR REG', 'TRUCK', 'RAIL', 'FOB'])
                                    [1 + tpch_rnd(%1$s, %2$d + 6, 7)]
                 WHERE tpch_rnd(%1$s, %3$d, 150) = 0""", LINE));
        out.add(update("lineitem: supplier (join key), another supplier of the part", random, """
                UPDATE lineitem l
                   SET l_suppkey = coalesce((SELECT ps_suppkey FROM partsupp
                                              WHERE ps_partkey = l.l_partkey AND ps_suppkey <> l.l_suppkey
                                              ORDER BY ps_suppkey OFFSET tpch_rnd(%1$s, %2$d, 3) LIMIT 1), l_suppkey)
                 WHERE tpch_rnd(%1$s, %3$d, 500) = 0""", LINE));
        out.add(update("lineitem: line numbers (primary key)", random, """
                UPDATE lineitem SET l_linenumber = l_linenumber + 1000
                 WHERE tpch_rnd(l_orderkey, %2$d, 1000) = 0""", LINE));
        out.add(update("lineitem: delete single lines", random, """
                DELETE FROM lineitem WHERE tpch_rnd(%1$s, %2$d, 2000) = 0""", LINE));
        out.add(update("orders: date, priority, status", random, """
                UPDATE orders
                   SET o_orderdate = o_orderdate + (tpch_rnd(%1$s, %2$d, 181) - 90),
                       o_orderpriority = (ARRAY['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'])
                                         [1 + tpch_rnd(%1$s, %2$d + 1, 5)],
                       o_orderstatus = (ARRAY['F', 'O', 'P'])[1 + tpch_rnd(%1$s, %2$d + 2, 3)]
                 WHERE tpch_rnd(%1$s, %3$d, 100) = 0""", "o_orderkey"));
        out.add(update("orders: customer (join key)", random, """
                UPDATE orders SET o_custkey = 1 + tpch_rnd(%1$s, %2$d, (SELECT count(*) FROM customer)::int)
                 WHERE tpch_rnd(%1$s, %3$d, 300) = 0""", "o_orderkey"));
        out.add(update("orders and their line items: order key (primary key, one statement)", random, """
                WITH moved AS (
                    UPDATE orders o SET o_orderkey = m.new_key
                      FROM (SELECT o_orderkey AS old_key,
                                   (SELECT max(o_orderkey) FROM orders) + row_number() OVER (ORDER BY o_orderkey) AS new_key
                              FROM orders WHERE tpch_rnd(%1$s, %2$d, 2000) = 0) m
                     WHERE o.o_orderkey = m.old_key
                    RETURNING m.old_key, m.new_key)
                UPDATE lineitem SET l_orderkey = moved.new_key FROM moved WHERE l_orderkey = moved.old_key""",
                "o_orderkey"));
        out.add(update("partsupp: supply cost, available quantity", random, """
                UPDATE partsupp
                   SET ps_supplycost = round(ps_supplycost * (0.5 + tpch_rnd(%1$s, %2$d, 100) / 100.0), 2),
                       ps_availqty = 1 + tpch_rnd(%1$s, %2$d + 1, 9999)
                 WHERE tpch_rnd(%1$s, %3$d, 100) = 0""", PARTSUPP));
        out.add(update("customer: market segment, balance", random, """
                UPDATE customer
                   SET c_mktsegment = (ARRAY['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'])
                                      [1 + tpch_rnd(%1$s, %2$d, 5)],
                       c_acctbal = c_acctbal + (tpch_rnd(%1$s, %2$d + 1, 200001) - 100000) / 100.0
                 WHERE tpch_rnd(%1$s, %3$d, 50) = 0""", "c_custkey"));
        out.add(update("customer: nation (join key)", random, """
                UPDATE customer SET c_nationkey = tpch_rnd(%1$s, %2$d, 25)
                 WHERE tpch_rnd(%1$s, %3$d, 100) = 0""", "c_custkey"));
        // Suppliers move to the nations the queries name: BRAZIL, CANADA, FRANCE, GERMANY, SAUDI ARABIA.
        out.add(update("supplier: nation (join key), complaints in the comment", random, """
                UPDATE supplier
                   SET s_nationkey = (ARRAY[2, 3, 6, 7, 20])[1 + tpch_rnd(%1$s, %2$d, 5)],
                       s_comment = CASE WHEN tpch_rnd(%1$s, %2$d + 1, 2) = 0
                                        THEN 'Customer Complaints ' || left(s_comment, 80) ELSE s_comment END
                 WHERE tpch_rnd(%1$s, %3$d, 20) = 0""", "s_suppkey"));
        // Parts take the names, brands, types, containers and sizes the queries select.
        out.add(update("part: name, brand, type, container, size", random, """
                UPDATE part
                   SET p_name = CASE tpch_rnd(%1$s, %2$d, 4) WHEN 0 THEN left('forest ' || p_name, 55)
                                                             WHEN 1 THEN left('green ' || p_name, 55) ELSE p_name END,
                       p_brand = (ARRAY['Brand#12', 'Brand#23', 'Brand#34', 'Brand#45', 'Brand#51'])
                                 [1 + tpch_rnd(%1$s, %2$d + 1, 5)],
                       p_type = (ARRAY['ECONOMY ANODIZED STEEL', 'PROMO BRUSHED COPPER', 'MEDIUM POLISHED BRASS',
                                       'STANDARD PLATED BRASS', 'LARGE BURNISHED TIN'])[1 + tpch_rnd(%1$s, %2$d + 2, 5)],
                       p_container = (ARRAY['SM CASE', 'SM PKG', 'MED BOX', 'MED BAG', 'LG BOX', 'LG PACK', 'JUMBO DRUM'])
                                     [1 + tpch_rnd(%1$s, %2$d + 3, 7)],
                       p_size = (ARRAY[1, 3, 5, 9, 14, 15, 23, 45, 49])[1 + tpch_rnd(%1$s, %2$d + 4, 9)]
                 WHERE tpch_rnd(%1$s, %3$d, 30) = 0""", "p_partkey"));
        out.add(update("nation: region (join key) of one nation", random, """
                UPDATE nation SET n_regionkey = tpch_rnd(%1$s, %2$d, 5)
                 WHERE n_nationkey = tpch_rnd(0, %3$d, 25)""", "n_nationkey"));
        return out;
    }

    /**
     * A statement whose template takes the row's key expression (%1$s) and up to two salts (%2$d for
     * the values written, %3$d for the rows chosen).
     */
    private static Change update(String name, Random random, String template, String key) {
        return new Change(name, String.format(template, key, random.nextInt(1 << 20), random.nextInt(1 << 20)));
    }
}
