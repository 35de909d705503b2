package io.pgtrickle.core.nexmark;

import java.util.List;

/**
 * The Nexmark queries that PostgreSQL can express (after the Flink/Apache Beam suite; event-time
 * windows as tumbling GROUP BY buckets of {@code date_trunc('minute', ...)}). Left out: q10 and q12
 * (writing files, processing time) and q11 (session windows).
 */
final class NexmarkQueries {
    record Query(String name, String title, String sql) {
    }

    private static final String CHANNEL_ID = "substring(url from 'channel_id=([^&]*)')";

    static final List<Query> ALL = List.of(
            new Query("q0", "pass-through", "SELECT auction, bidder, price, date_time FROM bid"),
            new Query("q1", "currency conversion", "SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid"),
            new Query("q2", "selection", "SELECT auction, price FROM bid WHERE auction % 7 = 0"),
            new Query("q3", "local item suggestion", "SELECT p.name, p.city, p.state, a.id FROM auction a JOIN person p ON a.seller = p.id"
                    + " WHERE a.category = 10 AND p.state IN ('OR', 'ID', 'CA')"),
            new Query("q4", "average price for a category", "SELECT q.category, avg(q.final) AS avg_final FROM (SELECT max(b.price) AS final,"
                    + " a.category FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires"
                    + " GROUP BY a.id, a.category) q GROUP BY q.category"),
            new Query("q5", "hot items (per minute, the auctions with the most bids)", "SELECT w.auction, w.num, w.starttime FROM"
                    + " (SELECT auction, count(*) AS num, date_trunc('minute', date_time) AS starttime FROM bid"
                    + " GROUP BY auction, date_trunc('minute', date_time)) w JOIN (SELECT max(c.num) AS maxn, c.starttime FROM"
                    + " (SELECT count(*) AS num, date_trunc('minute', date_time) AS starttime FROM bid"
                    + " GROUP BY auction, date_trunc('minute', date_time)) c GROUP BY c.starttime) m"
                    + " ON w.starttime = m.starttime AND w.num = m.maxn"),
            new Query("q6", "average selling price by seller (last 10 closed auctions)", "SELECT seller, id, avg(final) OVER"
                    + " (PARTITION BY seller ORDER BY expires, id ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) AS avg_price FROM"
                    + " (SELECT a.id, a.seller, a.expires, max(b.price) AS final FROM auction a JOIN bid b ON a.id = b.auction"
                    + " WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.seller, a.expires) q"),
            new Query("q7", "highest bid per minute", "SELECT b.auction, b.price, b.bidder, b.date_time FROM bid b JOIN"
                    + " (SELECT max(price) AS maxprice, date_trunc('minute', date_time) AS w FROM bid GROUP BY date_trunc('minute', date_time)) m"
                    + " ON date_trunc('minute', b.date_time) = m.w AND b.price = m.maxprice"),
            new Query("q8", "new users who opened an auction in their first minute", "SELECT p.id, p.name, p.starttime FROM"
                    + " (SELECT id, name, date_trunc('minute', date_time) AS starttime FROM person GROUP BY id, name, date_trunc('minute', date_time)) p"
                    + " JOIN (SELECT seller, date_trunc('minute', date_time) AS starttime FROM auction GROUP BY seller, date_trunc('minute', date_time)) a"
                    + " ON p.id = a.seller AND p.starttime = a.starttime"),
            new Query("q9", "winning bids", "SELECT DISTINCT ON (a.id) a.id, a.item_name, a.seller, a.category, b.price, b.bidder"
                    + " FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires"
                    + " ORDER BY a.id, b.price DESC, b.date_time, b.bidder"),
            new Query("q13", "bounded side input join", "SELECT b.auction, b.bidder, b.price, b.date_time, s.value FROM bid b"
                    + " JOIN side_input s ON b.auction % 10 = s.key"),
            new Query("q14", "calculation", "SELECT auction, bidder, 0.908 * price AS price, CASE WHEN extract(hour FROM date_time) BETWEEN 8 AND 18"
                    + " THEN 'dayTime' WHEN extract(hour FROM date_time) <= 6 OR extract(hour FROM date_time) >= 20 THEN 'nightTime'"
                    + " ELSE 'otherTime' END AS bid_time_type, date_time, extra, length(extra) AS c_counts FROM bid"
                    + " WHERE 0.908 * price > 1000 AND 0.908 * price < 50000"),
            new Query("q15", "bidding statistics per day", "SELECT date_trunc('day', date_time) AS day, count(*) AS total_bids,"
                    + " count(*) FILTER (WHERE price < 1000) AS rank1_bids, count(*) FILTER (WHERE price >= 1000 AND price < 10000) AS rank2_bids,"
                    + " count(*) FILTER (WHERE price >= 10000) AS rank3_bids, count(DISTINCT bidder) AS total_bidders,"
                    + " count(DISTINCT bidder) FILTER (WHERE price < 1000) AS rank1_bidders, count(DISTINCT auction) AS total_auctions"
                    + " FROM bid GROUP BY date_trunc('day', date_time)"),
            new Query("q16", "channel statistics per minute", "SELECT channel, date_trunc('minute', date_time) AS minute, count(*) AS total_bids,"
                    + " count(DISTINCT bidder) AS total_bidders, count(DISTINCT auction) AS total_auctions, max(price) AS top"
                    + " FROM bid GROUP BY channel, date_trunc('minute', date_time)"),
            new Query("q17", "auction statistics per day", "SELECT auction, date_trunc('day', date_time) AS day, count(*) AS total_bids,"
                    + " count(*) FILTER (WHERE price < 1000) AS rank1_bids, min(price) AS min_price, max(price) AS max_price,"
                    + " avg(price) AS avg_price, sum(price) AS sum_price FROM bid GROUP BY auction, date_trunc('day', date_time)"),
            new Query("q18", "last bid of each bidder on each auction", "SELECT DISTINCT ON (bidder, auction) auction, bidder, price, channel,"
                    + " date_time FROM bid ORDER BY bidder, auction, date_time DESC, price DESC, channel, url, extra"),
            new Query("q19", "top 3 bids of each auction", "SELECT auction, bidder, price, rn FROM (SELECT auction, bidder, price,"
                    + " row_number() OVER (PARTITION BY auction ORDER BY price DESC, date_time, bidder, channel, url, extra) AS rn FROM bid) x"
                    + " WHERE rn <= 3"),
            new Query("q20", "bids expanded with their auction", "SELECT b.auction, b.bidder, b.price, b.channel, b.date_time, a.item_name,"
                    + " a.initial_bid, a.reserve, a.expires, a.seller, a.category FROM bid b JOIN auction a ON b.auction = a.id WHERE a.category = 10"),
            new Query("q21", "channel id", "SELECT auction, bidder, price, channel, CASE WHEN lower(channel) = 'apple' THEN '0'"
                    + " WHEN lower(channel) = 'google' THEN '1' WHEN lower(channel) = 'facebook' THEN '2' WHEN lower(channel) = 'baidu' THEN '3'"
                    + " ELSE " + CHANNEL_ID + " END AS channel_id FROM bid WHERE " + CHANNEL_ID + " IS NOT NULL"
                    + " OR lower(channel) IN ('apple', 'google', 'facebook', 'baidu')"),
            new Query("q22", "URL directories", "SELECT auction, bidder, price, channel, split_part(url, '/', 4) AS dir1,"
                    + " split_part(url, '/', 5) AS dir2, split_part(url, '/', 6) AS dir3 FROM bid"));

    private NexmarkQueries() {
    }
}
