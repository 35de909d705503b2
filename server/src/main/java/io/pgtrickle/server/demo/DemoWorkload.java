package io.pgtrickle.server.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes to the shop like an application would: new orders, quantity changes, shipments and
 * cancellations, in small transactions at a steady rate.
 */
final class DemoWorkload implements Runnable {
    final AtomicLong inserts = new AtomicLong();
    final AtomicLong updates = new AtomicLong();
    final AtomicLong deletes = new AtomicLong();

    private final Connection conn;
    private final int statementsPerSecond;
    private final long untilNanos;
    private final Random random = new Random(42);
    private volatile SQLException failure;

    DemoWorkload(Connection conn, int statementsPerSecond, long untilNanos) {
        this.conn = conn;
        this.statementsPerSecond = statementsPerSecond;
        this.untilNanos = untilNanos;
    }

    long statements() {
        return inserts.get() + updates.get() + deletes.get();
    }

    SQLException failure() {
        return failure;
    }

    @Override
    public void run() {
        long pauseNanos = 1_000_000_000L / Math.max(1, statementsPerSecond);
        try (PreparedStatement insert = conn.prepareStatement(
                     "INSERT INTO orders (customer_id, product_id, quantity) VALUES (?, ?, ?)");
             PreparedStatement changeQuantity = conn.prepareStatement(
                     "UPDATE orders SET quantity = quantity + 1 WHERE id = (SELECT max(id) - ? FROM orders)");
             PreparedStatement ship = conn.prepareStatement(
                     "UPDATE orders SET status = 'shipped' WHERE id = (SELECT min(id) FROM orders WHERE status = 'open')");
             PreparedStatement cancel = conn.prepareStatement(
                     "DELETE FROM orders WHERE id = (SELECT max(id) - ? FROM orders)")) {
            long next = System.nanoTime();
            while (System.nanoTime() < untilNanos && !Thread.currentThread().isInterrupted()) {
                int dice = random.nextInt(10);
                if (dice < 6) {
                    insert.setInt(1, 1 + random.nextInt(DemoSchema.CUSTOMERS));
                    insert.setInt(2, 1 + random.nextInt(DemoSchema.PRODUCTS));
                    insert.setInt(3, 1 + random.nextInt(5));
                    insert.executeUpdate();
                    inserts.incrementAndGet();
                } else if (dice < 8) {
                    changeQuantity.setInt(1, random.nextInt(50));
                    updates.addAndGet(changeQuantity.executeUpdate());
                } else if (dice < 9) {
                    updates.addAndGet(ship.executeUpdate());
                } else {
                    cancel.setInt(1, random.nextInt(50));
                    deletes.addAndGet(cancel.executeUpdate());
                }
                next += pauseNanos;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                }
            }
        } catch (SQLException e) {
            failure = e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
