package io.pgtrickle.core.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult.Outcome;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.testing.Db;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ReplaceAlterDropTest {
    static Db db;

    @BeforeAll
    static void setUp() {
        db = Db.create(ReplaceAlterDropTest.class);
        db.exec("CREATE TABLE p (id int PRIMARY KEY, cat text, price int)",
                "INSERT INTO p SELECT g, 'c' || (g % 3), g FROM generate_series(1, 30) g");
    }

    @Test
    void createIfNotExistsKeepsTheExistingDefinition() {
        db.api.create(CreateOptions.of("keep_me", "SELECT id FROM p WHERE id < 5"));
        var r = db.api.createIfNotExists(CreateOptions.of("keep_me", "SELECT id FROM p"));
        assertThat(r.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(db.queryLong("SELECT count(*) FROM keep_me")).isEqualTo(4);
    }

    /**
     * The same query compiled by an earlier engine (simulated by a stored statement this engine would
     * not write) is compiled again and repopulated: the way to pick up a fix of the compiled SQL.
     */
    @Test
    void createOrReplaceWithTheSameQueryCompilesAgainWhatAnEarlierEngineCompiled() {
        String query = "SELECT cat, sum(price) / count(*) AS per_item FROM p GROUP BY cat";
        long id = db.api.create(CreateOptions.of("again", query).withRefreshMode(RefreshMode.DIFFERENTIAL)).streamTable().id();
        String compiled = db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_id = " + id);
        assertThat(db.api.createOrReplace(CreateOptions.of("again", query).withRefreshMode(RefreshMode.DIFFERENTIAL)).outcome())
                .as("compiled the same way twice").isEqualTo(Outcome.UNCHANGED);

        db.exec("UPDATE pgtrickle.pgt_stream_tables SET diff_apply_sql = diff_apply_sql || ' ' WHERE pgt_id = " + id);
        var r = db.api.createOrReplace(CreateOptions.of("again", query).withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThat(r.outcome()).isEqualTo(Outcome.REPLACED);
        assertThat(r.streamTable().id()).isEqualTo(id);
        assertThat(r.notices()).anyMatch(n -> n.contains("compiles differently now"));
        assertThat(db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_id = " + id)).isEqualTo(compiled);
        assertThat(db.api.history("again", 1).get(0).reason()).isEqualTo("the defining query compiles differently now");
        db.assertOracle("again");
        db.exec("UPDATE p SET price = price + 1 WHERE id % 4 = 0");
        assertThat(db.api.refresh("again").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("again");
    }

    /**
     * Statements of an earlier engine over other hidden columns (simulated by dropping one) would
     * need a new storage table, which would take the grants, indexes and views on it: the stream
     * table keeps its compiled SQL, with a notice, and the view on it stays.
     */
    @Test
    void createOrReplaceWithTheSameQueryKeepsTheStorageTableWhenHiddenColumnsDiffer() {
        String query = "SELECT cat, sum(price) AS total FROM p GROUP BY cat";
        db.api.create(CreateOptions.of("hidden", query).withRefreshMode(RefreshMode.DIFFERENTIAL));
        db.exec("CREATE VIEW hidden_view AS SELECT cat FROM hidden");
        long relid = db.queryLong("SELECT 'hidden'::regclass::oid");
        db.exec("ALTER TABLE hidden DROP COLUMN __pgt_a0_n",
                "UPDATE pgtrickle.pgt_stream_tables SET diff_apply_sql = diff_apply_sql || ' ' WHERE pgt_name = 'hidden'");
        var kept = db.api.createOrReplace(CreateOptions.of("hidden", query).withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThat(kept.outcome()).isEqualTo(Outcome.UNCHANGED);
        assertThat(kept.notices()).anyMatch(n -> n.contains("keeps its compiled SQL") && n.contains("new storage table"));
        assertThat(db.queryLong("SELECT 'hidden'::regclass::oid")).isEqualTo(relid);
        assertThat(db.queryLong("SELECT count(*) FROM hidden_view")).isEqualTo(3);
        db.exec("DROP VIEW hidden_view");
        db.api.drop("hidden", false);
    }

    /**
     * A stream table compiled without IMMEDIATE maintenance (by an earlier release; simulated by
     * clearing it) cannot be altered to IMMEDIATE; the hint says create_or_replace, and that now
     * compiles it again with the same query, after which the alter works.
     */
    @Test
    void createOrReplaceWithTheSameQueryGivesImmediateMaintenanceToAStreamTableCompiledWithout() {
        String query = "SELECT cat, count(*) AS n, sum(price) AS total FROM p GROUP BY cat";
        db.api.create(CreateOptions.of("imm_later", query).withRefreshMode(RefreshMode.DIFFERENTIAL));
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET ivm_apply_sql = NULL WHERE pgt_name = 'imm_later'");
        assertThatThrownBy(() -> db.api.alter("imm_later", AlterOptions.none().withRefreshMode(RefreshMode.IMMEDIATE)))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.hint()).contains("create_or_replace"));

        var r = db.api.createOrReplace(CreateOptions.of("imm_later", query).withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThat(r.outcome()).isEqualTo(Outcome.REPLACED);
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'imm_later'"
                + " AND ivm_apply_sql IS NOT NULL")).isEqualTo(1);
        assertThat(db.api.createOrReplace(CreateOptions.of("imm_later", query).withRefreshMode(RefreshMode.DIFFERENTIAL))
                .outcome()).isEqualTo(Outcome.UNCHANGED);
        db.api.alter("imm_later", AlterOptions.none().withRefreshMode(RefreshMode.IMMEDIATE));
        db.exec("UPDATE p SET price = price + 3 WHERE id % 7 = 0");
        db.assertOracle("imm_later");
        db.api.drop("imm_later", false);
    }

    @Test
    void createOrReplaceIsANoOpAnAlterOrANewQueryWithTheSameId() {
        long id = db.api.create(CreateOptions.of("cor", "SELECT cat, count(*) AS n FROM p GROUP BY cat")).streamTable().id();
        // Same query, written differently: the normalised form is equal.
        var same = db.api.createOrReplace(CreateOptions.of("cor", "select cat,   count(*) as n from p group by cat;"));
        assertThat(same.outcome()).isEqualTo(Outcome.UNCHANGED);
        var altered = db.api.createOrReplace(CreateOptions.of("cor", "SELECT cat, count(*) AS n FROM p GROUP BY cat")
                .withSchedule("5m"));
        assertThat(altered.outcome()).isEqualTo(Outcome.ALTERED);
        assertThat(altered.streamTable().schedule()).isEqualTo("5m");
        long relid = db.queryLong("SELECT 'cor'::regclass::oid");
        var replaced = db.api.createOrReplace(CreateOptions.of("cor", "SELECT cat, count(*) AS n FROM p WHERE price > 10 GROUP BY cat")
                .withSchedule("5m"));
        assertThat(replaced.outcome()).isEqualTo(Outcome.REPLACED);
        assertThat(replaced.streamTable().id()).isEqualTo(id);
        assertThat(db.queryLong("SELECT 'cor'::regclass::oid")).as("same columns: the table is kept").isEqualTo(relid);
        db.assertOracle("cor");
        var reshaped = db.api.createOrReplace(CreateOptions.of("cor", "SELECT cat, sum(price) AS total FROM p GROUP BY cat"));
        assertThat(reshaped.outcome()).isEqualTo(Outcome.REPLACED);
        assertThat(reshaped.notices()).anyMatch(n -> n.contains("rebuilt"));
        assertThat(reshaped.streamTable().id()).isEqualTo(id);
        db.assertOracle("cor");
        assertThat(db.api.history("cor", 1).get(0).action()).isEqualTo("REINITIALIZE");
        assertThat(db.api.history("cor", 1).get(0).reason()).isEqualTo("the defining query changed");
    }

    @Test
    void aQueryChangeThatWouldCloseACycleIsRejectedWithTheCycleNamed() {
        db.api.create(CreateOptions.of("cyc_a", "SELECT id, price FROM p"));
        db.api.create(CreateOptions.of("cyc_b", "SELECT id, price FROM cyc_a"));
        db.api.create(CreateOptions.of("cyc_c", "SELECT id, price FROM cyc_b"));
        assertThatThrownBy(() -> db.api.createOrReplace(CreateOptions.of("cyc_a", "SELECT id, price FROM cyc_c")))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CYCLE_DETECTED);
                    assertThat(e.getMessage()).contains("public.cyc_a -> public.cyc_c -> public.cyc_b -> public.cyc_a");
                });
        assertThatThrownBy(() -> db.api.createOrReplace(CreateOptions.of("cyc_a", "SELECT id, price FROM cyc_a")))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CYCLE_DETECTED));
        db.assertOracle("cyc_a");
    }

    @Test
    void alterChangesScheduleModeAndStatus() {
        db.api.create(CreateOptions.of("alt", "SELECT id FROM p").withSchedule("1m"));
        db.api.alter("alt", AlterOptions.none().withSchedule("@hourly"));
        assertThat(db.api.get("alt").schedule()).isEqualTo("@hourly");
        db.api.alter("alt", AlterOptions.none().withSchedule("calculated"));
        assertThat(db.api.get("alt").schedule()).isNull();
        assertThat(db.api.get("alt").scheduleText()).isEqualTo("calculated");
        db.api.alter("alt", AlterOptions.none().withStatus(Status.PAUSED));
        assertThat(db.api.get("alt").status()).isEqualTo(Status.PAUSED);
        // A paused stream table still refreshes on demand.
        db.exec("INSERT INTO p VALUES (100, 'c0', 1)");
        db.api.refresh("alt");
        db.assertOracle("alt");
        db.api.alter("alt", AlterOptions.none().withStatus(Status.ACTIVE));
        assertThat(db.api.get("alt").status()).isEqualTo(Status.ACTIVE);
        db.api.alter("alt", AlterOptions.none().withRefreshMode(RefreshMode.FULL));
        assertThat(db.api.get("alt").refreshMode()).isEqualTo(RefreshMode.FULL);
        assertThat(db.api.alter("alt", AlterOptions.none().withRefreshMode(RefreshMode.AUTO))).isEmpty();
        assertThat(db.api.get("alt").refreshMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        db.api.alter("alt", AlterOptions.none().withRefreshMode(RefreshMode.IMMEDIATE));
        assertThat(db.api.get("alt").refreshMode()).isEqualTo(RefreshMode.IMMEDIATE);
        db.api.alter("alt", AlterOptions.none().withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThatThrownBy(() -> db.api.alter("alt", AlterOptions.none().withSchedule("often")))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SCHEDULE));
        assertThatThrownBy(() -> db.api.alter("alt", AlterOptions.none()))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> Status.parseSettable("SUSPENDED")).isInstanceOf(PgtException.class);
        assertThatThrownBy(() -> db.api.alter("no_such_st", AlterOptions.none().withSchedule("1m")))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_TABLE_NOT_FOUND));
    }

    @Test
    void dropRemovesTableTriggersBufferAndCatalogRows() {
        db.exec("CREATE TABLE solo (id int PRIMARY KEY)");
        StreamTableInfo st = db.api.create(CreateOptions.of("solo_st", "SELECT id FROM solo")).streamTable();
        assertThat(db.api.drop("solo_st", false)).containsExactly("public.solo_st");
        assertThat(db.queryString("SELECT to_regclass('solo_st')::text")).isNull();
        assertThat(db.queryLong("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'solo'::regclass AND NOT tgisinternal")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE pgt_id = " + st.id())).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pg_tables WHERE schemaname = 'pgtrickle_changes'"))
                .isEqualTo(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_change_tracking"));
        assertThatThrownBy(() -> db.api.drop("solo_st", false))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.STREAM_TABLE_NOT_FOUND));
    }

    @Test
    void dropStillWorksWhenTheSourceTableIsGone() {
        db.exec("CREATE TABLE doomed (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("doomed_st", "SELECT id FROM doomed"));
        db.exec("DROP TABLE doomed");
        assertThatThrownBy(() -> db.api.refresh("doomed_st"))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.getMessage()).contains("source public.doomed of stream table public.doomed_st no longer exists");
                    assertThat(e.hint()).contains("Drop the stream table");
                });
        assertThat(db.api.get("doomed_st").status()).isEqualTo(Status.ERROR);
        assertThat(db.api.drop("doomed_st", false)).containsExactly("public.doomed_st");
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_change_tracking WHERE buffer_table LIKE '%doomed%'")).isZero();
    }
}
