package io.pgtrickle.core.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.testing.Db;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Found in review: the compiled SQL relies on the sources' primary keys as they were at compile
 * time (the previous state of a table is read by key; rows unique by a key are stored without being
 * counted). A key dropped later let a refresh store one row for two equal source rows. The keys are
 * recorded, and a refresh or IMMEDIATE maintenance that finds one changed fails with the remedy
 * instead; create_or_replace compiles the query against the keys now.
 */
class SourceKeyChangeTest {
    private static final String QUERY = "SELECT id, v FROM t WHERE v > 0";

    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(SourceKeyChangeTest.class);
        db.exec("CREATE TABLE t (id int PRIMARY KEY, v int)", "INSERT INTO t SELECT g, g % 5 FROM generate_series(1, 40) g");
    }

    @ParameterizedTest
    @EnumSource(value = RefreshMode.class, names = {"DIFFERENTIAL", "FULL"})
    void aDroppedKeyFailsTheRefreshUntilTheQueryIsCompiledAgain(RefreshMode mode) {
        db.api.create(CreateOptions.of("st", QUERY).withRefreshMode(mode));
        assertThat(recordedKeys()).containsExactly("id");
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey", "INSERT INTO t VALUES (7, 2)"); // id 7 twice, equal rows
        assertThatThrownBy(() -> db.api.refresh("st"))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.getMessage()).contains("the primary key of a source of stream table public.st changed since its"
                            + " query was compiled: public.t (compiled against (id), now none)");
                    assertThat(e.hint()).contains("create_or_replace");
                });
        assertThat(db.api.get("st").status()).isEqualTo(Status.ERROR); // not retried: it cannot succeed
        assertThat(db.queryLong("SELECT count(*) FROM st WHERE id = 7")).isEqualTo(1); // nothing half-written

        CreateResult replaced = db.api.createOrReplace(CreateOptions.of("st", QUERY).withRefreshMode(mode));
        assertThat(replaced.outcome()).isEqualTo(CreateResult.Outcome.REPLACED); // compiled again, without the key
        resumeIfInError("st");
        db.api.refresh("st");
        assertThat(db.queryLong("SELECT count(*) FROM st WHERE id = 7")).isEqualTo(2);
        assertThat(recordedKeys())
                .containsExactly("none");
        assertThat(hasKeylessSource()).isEqualTo("true");
        db.exec("INSERT INTO t VALUES (7, 2), (8, 3)", "DELETE FROM t WHERE ctid = (SELECT min(ctid) FROM t WHERE id = 7)");
        db.api.refresh("st");
        db.assertOracle("st");
    }

    @Test
    void immediateMaintenanceRefusesTheWriteOnceTheKeyChanged() {
        db.api.create(CreateOptions.of("st", QUERY).withRefreshMode(RefreshMode.IMMEDIATE));
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD PRIMARY KEY (id, v)");
        assertThatThrownBy(() -> db.exec("INSERT INTO t VALUES (7, 4)"))
                .hasMessageContaining("public.t (compiled against (id), now (id, v))");
        assertThat(db.queryLong("SELECT count(*) FROM t WHERE id = 7")).isEqualTo(1); // the write was rolled back

        db.api.createOrReplace(CreateOptions.of("st", QUERY).withRefreshMode(RefreshMode.IMMEDIATE));
        db.exec("INSERT INTO t VALUES (7, 4)", "UPDATE t SET v = v + 1 WHERE id = 7");
        db.assertOracle("st");
    }

    @Test
    void aKeyDroppedAndAddedAgainOrAddedToAKeylessTableChangesNothing() {
        db.exec("CREATE TABLE u (id int, w int)", "INSERT INTO u SELECT g, g FROM generate_series(1, 10) g");
        db.api.create(CreateOptions.of("st", "SELECT t.id, t.v, u.w FROM t JOIN u ON u.id = t.id"));
        assertThat(hasKeylessSource()).isEqualTo("true");
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD CONSTRAINT t_key PRIMARY KEY (id)",
                "ALTER TABLE u ADD PRIMARY KEY (id)", "UPDATE t SET v = v + 1 WHERE id < 5");
        db.api.refresh("st");
        db.assertOracle("st");
        // the new constraint is recorded: later refreshes find it at once
        assertThat(db.queryStrings("SELECT c.conname FROM pgtrickle.pgt_dependencies d JOIN pg_constraint c"
                + " ON c.oid = d.primary_key_constraint")).containsExactly("t_key");
    }

    @Test
    void aKeyTheSqlDoesNotReadByIsNotRecordedAndMayChange() {
        // count(*) reads no column of t: its SQL has no key to rely on
        db.api.create(CreateOptions.of("st", "SELECT count(*) AS n FROM t"));
        assertThat(recordedKeys()).containsExactly("none");
        assertThat(hasKeylessSource()).isEqualTo("false");
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey", "INSERT INTO t VALUES (1, 1)");
        db.api.refresh("st");
        db.assertOracle("st");
    }

    @Test
    void aKeyAddedAgainUnderImmediateIsRecordedByCreateOrReplaceWithTheSameSql() {
        db.api.create(CreateOptions.of("st", QUERY).withRefreshMode(RefreshMode.IMMEDIATE));
        String sql = db.queryString("SELECT ivm_apply_sql FROM pgtrickle.pgt_stream_tables");
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD PRIMARY KEY (id)",
                "INSERT INTO t VALUES (41, 4)", "UPDATE t SET v = v + 1 WHERE id < 5"); // the same key: writes go on
        db.assertOracle("st");
        CreateResult kept = db.api.createOrReplace(CreateOptions.of("st", QUERY).withRefreshMode(RefreshMode.IMMEDIATE));
        assertThat(kept.outcome()).isEqualTo(CreateResult.Outcome.UNCHANGED);
        assertThat(db.queryString("SELECT ivm_apply_sql FROM pgtrickle.pgt_stream_tables")).isEqualTo(sql);
        assertThat(db.queryStrings("SELECT c.conname FROM pgtrickle.pgt_dependencies d JOIN pg_constraint c"
                + " ON c.oid = d.primary_key_constraint AND c.conrelid = d.source_relid")).containsExactly("t_pkey");
        db.exec("DELETE FROM t WHERE id = 41");
        db.assertOracle("st");
    }

    @Test
    void aKeyAddedAgainAsDeferrableIsAChangedKey() {
        db.api.create(CreateOptions.of("st", QUERY));
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD PRIMARY KEY (id) DEFERRABLE INITIALLY IMMEDIATE",
                "UPDATE t SET v = v + 1 WHERE id < 5");
        assertThatThrownBy(() -> db.api.refresh("st")).hasMessageContaining("public.t (compiled against (id), now none)");
    }

    @Test
    void aRecordedConstraintOidThatNowNamesAnotherTablesKeyDoesNotHideTheChange() {
        // pg_upgrade keeps tables' oids but not constraints': a recorded oid may name another constraint
        db.exec("CREATE TABLE other (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("st", QUERY));
        db.exec("UPDATE pgtrickle.pgt_dependencies SET primary_key_constraint ="
                        + " (SELECT oid FROM pg_constraint WHERE conname = 'other_pkey')",
                "ALTER TABLE t DROP CONSTRAINT t_pkey", "INSERT INTO t VALUES (7, 2)");
        assertThatThrownBy(() -> db.api.refresh("st")).hasMessageContaining("public.t (compiled against (id), now none)");
    }

    @Test
    void catalogVersion8StreamTablesGetTheirSourcesKeysNow() {
        db.api.create(CreateOptions.of("st", QUERY));
        db.exec("ALTER TABLE pgtrickle.pgt_dependencies DROP COLUMN primary_key, DROP COLUMN primary_key_constraint,"
                        + " DROP COLUMN column_types",
                "ALTER TABLE pgtrickle.pgt_change_tracking DROP COLUMN captured_types",
                "DELETE FROM pgtrickle.pgt_schema_version WHERE version >= 9");
        db.api.install();
        assertThat(db.queryStrings("SELECT array_to_string(primary_key, ',') || ':' || pg_get_constraintdef(primary_key_constraint)"
                + " FROM pgtrickle.pgt_dependencies")).containsExactly("id:PRIMARY KEY (id)");
        db.exec("ALTER TABLE t DROP CONSTRAINT t_pkey");
        assertThatThrownBy(() -> db.api.refresh("st")).hasMessageContaining("public.t (compiled against (id), now none)");
    }

    /** pgt_dependencies.primary_key of every source, 'none' for NULL. */
    private java.util.List<String> recordedKeys() {
        return db.queryStrings("SELECT coalesce(array_to_string(primary_key, ','), 'none') FROM pgtrickle.pgt_dependencies");
    }

    private String hasKeylessSource() {
        return db.queryString("SELECT has_keyless_source::text FROM pgtrickle.pgt_stream_tables");
    }

    private void resumeIfInError(String name) {
        if (db.api.get(name).status() == Status.ERROR) {
            db.api.resume(name);
        }
    }
}
