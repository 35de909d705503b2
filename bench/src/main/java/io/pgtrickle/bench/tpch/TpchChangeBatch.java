package io.pgtrickle.bench.tpch;

import java.util.List;

/**
 * One batch of changes to about 1 % of every TPC-H table but nation and region, as one
 * transaction: the refresh functions RF1 (0.5 % of orders inserted, copies of existing ones with
 * new keys, with their line items) and RF2 (0.5 % of orders deleted with their line items) — 1 % of
 * orders and of lineitem — and updates of non-key columns of 1 % of customer, supplier, part and
 * partsupp, to the values the queries select. Rows and values are drawn by PostgreSQL from a hash of
 * each row's key and salts derived from the batch number ({@link #FUNCTION}), after core's
 * TpchChanges (whose cycles touch between 0.05 % and 5 % of a table).
 */
public final class TpchChangeBatch {
    /** {@code tpch_rnd(key, salt, n)}: a number in [0, n) drawn from the key and the salt. */
    public static final String FUNCTION = """
            CREATE OR REPLACE FUNCTION tpch_rnd(k bigint, salt bigint, n integer) RETURNS integer
            LANGUAGE sql IMMUTABLE PARALLEL SAFE
            RETURN (hashint8(k # (salt * 1000003)) & 2147483647) % n""";

    private TpchChangeBatch() {
    }

    /** The statements of batch {@code batch} (0, 1, …), given the largest order key before it. */
    public static List<String> statements(int batch, long maxOrderKey) {
        long salt = 7919L * (batch + 1);
        String newOrders = String.format("""
                SELECT o_orderkey AS old_key, %1$d + row_number() OVER (ORDER BY o_orderkey) AS new_key
                  FROM orders
                 WHERE o_orderkey <= %1$d AND tpch_rnd(o_orderkey, %2$d, 200) = 0""", maxOrderKey, salt);
        return List.of(
                // RF2 first, on the orders that existed before the batch
                String.format("""
                        WITH gone AS (DELETE FROM orders WHERE o_orderkey <= %d AND tpch_rnd(o_orderkey, %d, 200) = 0
                                      RETURNING o_orderkey)
                        DELETE FROM lineitem WHERE l_orderkey IN (SELECT o_orderkey FROM gone)""", maxOrderKey, salt + 1),
                String.format("""
                        INSERT INTO orders
                        SELECT m.new_key, o_custkey, 'O', o_totalprice, o_orderdate, o_orderpriority, o_clerk,
                               o_shippriority, o_comment
                          FROM orders JOIN (%s) m ON m.old_key = o_orderkey""", newOrders),
                String.format("""
                        INSERT INTO lineitem
                        SELECT m.new_key, l_partkey, l_suppkey, l_linenumber, l_quantity, l_extendedprice, l_discount, l_tax,
                               'N', 'O', l_shipdate, l_commitdate, l_receiptdate, l_shipinstruct, l_shipmode, l_comment
                          FROM lineitem JOIN (%s) m ON m.old_key = l_orderkey""", newOrders),
                String.format("""
                        UPDATE customer
                           SET c_mktsegment = (ARRAY['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'])
                                              [1 + tpch_rnd(c_custkey, %1$d, 5)],
                               c_acctbal = c_acctbal + (tpch_rnd(c_custkey, %1$d + 1, 200001) - 100000) / 100.0
                         WHERE tpch_rnd(c_custkey, %1$d + 2, 100) = 0""", salt + 2),
                String.format("""
                        UPDATE supplier
                           SET s_acctbal = s_acctbal + (tpch_rnd(s_suppkey, %1$d, 200001) - 100000) / 100.0,
                               s_comment = CASE WHEN tpch_rnd(s_suppkey, %1$d + 1, 2) = 0
                                                THEN 'Customer Complaints ' || left(s_comment, 80) ELSE s_comment END
                         WHERE tpch_rnd(s_suppkey, %1$d + 2, 100) = 0""", salt + 3),
                String.format("""
                        UPDATE part
                           SET p_brand = (ARRAY['Brand#12', 'Brand#23', 'Brand#34', 'Brand#45', 'Brand#51'])
                                         [1 + tpch_rnd(p_partkey, %1$d, 5)],
                               p_container = (ARRAY['SM CASE', 'SM PKG', 'MED BOX', 'MED BAG', 'LG BOX', 'LG PACK', 'JUMBO DRUM'])
                                             [1 + tpch_rnd(p_partkey, %1$d + 1, 7)],
                               p_size = (ARRAY[1, 3, 5, 9, 14, 15, 23, 45, 49])[1 + tpch_rnd(p_partkey, %1$d + 2, 9)]
                         WHERE tpch_rnd(p_partkey, %1$d + 3, 100) = 0""", salt + 4),
                String.format("""
                        UPDATE partsupp
                           SET ps_supplycost = round(ps_supplycost * (0.5 + tpch_rnd(ps_partkey::bigint * 1000000 + ps_suppkey, %1$d, 100) / 100.0), 2),
                               ps_availqty = 1 + tpch_rnd(ps_partkey::bigint * 1000000 + ps_suppkey, %1$d + 1, 9999)
                         WHERE tpch_rnd(ps_partkey::bigint * 1000000 + ps_suppkey, %1$d + 2, 100) = 0""", salt + 5));
    }
}
