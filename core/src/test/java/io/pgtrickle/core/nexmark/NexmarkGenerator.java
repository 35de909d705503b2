package io.pgtrickle.core.nexmark;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Nexmark's event stream (people, auctions, bids in the proportion 1 : 3 : 46, as in the benchmark's
 * generator), written as SQL: events come in time order, 50 ms apart; a bid names a recent auction
 * (hot auctions more often) and a recent person, an auction a recent seller. Deterministic for a
 * seed. Besides appending, {@link #batch} also deletes bids past a retention horizon and updates
 * some auctions and people, so that maintenance sees deletes and updates too, not only inserts.
 */
final class NexmarkGenerator {
    static final String SCHEMA = """
            CREATE TABLE person (id bigint PRIMARY KEY, name text, email text, credit_card text, city text, state text,
                                 date_time timestamp, extra text);
            CREATE TABLE auction (id bigint PRIMARY KEY, item_name text, description text, initial_bid bigint, reserve bigint,
                                  date_time timestamp, expires timestamp, seller bigint, category int, extra text);
            CREATE TABLE bid (auction bigint, bidder bigint, price bigint, channel text, url text, date_time timestamp, extra text);
            CREATE INDEX ON bid (auction);
            CREATE TABLE side_input (key bigint PRIMARY KEY, value text);
            INSERT INTO side_input SELECT k, 'side-' || k FROM generate_series(0, 9) k;
            """;

    private static final String[] FIRST = {"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"};
    private static final String[] LAST = {"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"};
    private static final String[] CITY = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"};
    private static final String[] STATE = {"AZ", "CA", "ID", "OR", "WA", "WY"};
    private static final String[] CHANNEL = {"Apple", "Google", "Facebook", "Baidu", "partner", "direct"};
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final Random random;
    private LocalDateTime now = LocalDateTime.of(2026, 1, 1, 7, 58, 0);
    private long events;
    private long people;
    private long auctions;

    NexmarkGenerator(long seed) {
        random = new Random(seed);
    }

    /** Statements appending {@code n} events (one INSERT per table), then, after the first batch, deletes and updates. */
    List<String> batch(int n, boolean churn) {
        List<String> persons = new ArrayList<>();
        List<String> auctionRows = new ArrayList<>();
        List<String> bids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long kind = events++ % 50;
            now = now.plusNanos(50_000_000L + random.nextInt(100) * 1_000_000L);
            String ts = "'" + TS.format(now) + "'";
            if (kind == 0 || people == 0) {
                long id = 1000 + people++;
                persons.add("(" + id + ", '" + FIRST[random.nextInt(FIRST.length)] + " " + LAST[random.nextInt(LAST.length)] + "', 'p" + id
                        + "@mail.example', '" + (1000 + random.nextInt(9000)) + " " + (1000 + random.nextInt(9000)) + "', '"
                        + CITY[random.nextInt(CITY.length)] + "', '" + STATE[random.nextInt(STATE.length)] + "', " + ts + ", '')");
            } else if (kind <= 3 || auctions == 0) {
                long id = 1000 + auctions++;
                long initial = 100 + random.nextInt(10_000);
                auctionRows.add("(" + id + ", 'item " + id + "', 'description " + id + "', " + initial + ", " + (initial + random.nextInt(5_000))
                        + ", " + ts + ", '" + TS.format(now.plusSeconds(5 + random.nextInt(60))) + "', " + recentPerson() + ", "
                        + (10 + random.nextInt(5)) + ", '')");
            } else {
                long auction = recentAuction();
                String channel = CHANNEL[random.nextInt(CHANNEL.length)];
                bids.add("(" + auction + ", " + recentPerson() + ", " + (100 + random.nextInt(random.nextBoolean() ? 10_000 : 100_000)) + ", '"
                        + channel + "', 'https://www.nexmark.example/" + channel.toLowerCase() + "/item_" + auction + "/" + random.nextInt(3)
                        + (random.nextInt(4) == 0 ? "?channel_id=" + random.nextInt(100) : "") + "', " + ts + ", '"
                        + "x".repeat(random.nextInt(5)) + "')");
            }
        }
        List<String> out = new ArrayList<>();
        if (!persons.isEmpty()) {
            out.add("INSERT INTO person VALUES " + String.join(", ", persons));
        }
        if (!auctionRows.isEmpty()) {
            out.add("INSERT INTO auction VALUES " + String.join(", ", auctionRows));
        }
        if (!bids.isEmpty()) {
            out.add("INSERT INTO bid VALUES " + String.join(", ", bids));
        }
        if (churn) {
            // retention: bids older than a horizon go; some auctions are extended or re-priced; people move
            out.add("DELETE FROM bid WHERE date_time < '" + TS.format(now.minusSeconds(90 + random.nextInt(60))) + "'");
            out.add("UPDATE auction SET expires = expires + interval '20 seconds', reserve = reserve + 1 WHERE id % 7 = "
                    + random.nextInt(7) + " AND id >= " + Math.max(1000, 1000 + auctions - 30));
            out.add("UPDATE person SET state = '" + STATE[random.nextInt(STATE.length)] + "' WHERE id = " + recentPerson());
            out.add("DELETE FROM auction WHERE id = " + recentAuction() + " AND NOT EXISTS (SELECT 1 FROM bid WHERE bid.auction = auction.id)");
            out.add("UPDATE side_input SET value = value || '+' WHERE key = " + random.nextInt(10));
        }
        return out;
    }

    private long recentPerson() {
        return 1000 + Math.max(0, people - 1 - random.nextInt((int) Math.min(people, 20)));
    }

    private long recentAuction() {
        // half of the bids go to the 5 newest auctions, as Nexmark's "hot" auctions
        int window = random.nextBoolean() ? 5 : 40;
        return 1000 + Math.max(0, auctions - 1 - random.nextInt((int) Math.max(1, Math.min(auctions, window))));
    }
}
