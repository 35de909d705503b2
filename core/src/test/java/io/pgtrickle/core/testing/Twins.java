package io.pgtrickle.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.sql.Sql;
import java.util.List;

/**
 * A DIFFERENTIAL stream table with a FULL twin of the same query: after each step both are
 * refreshed, both must equal the query, and they must hold the same rows, hidden columns included.
 * With {@link #withImmediate()}, an IMMEDIATE triplet too, checked after every statement.
 */
public final class Twins {
    private final Db db;
    private final boolean immediate;

    public Twins(Db db) {
        this(db, false);
    }

    private Twins(Db db, boolean immediate) {
        this.db = db;
        this.immediate = immediate;
    }

    /** Twins that also create {@code name_imm} in IMMEDIATE mode and check it after each statement of a step. */
    public Twins withImmediate() {
        return new Twins(db, true);
    }

    /** Creates {@code name} in DIFFERENTIAL (it must be maintainable) and {@code name_full} in FULL. */
    public void define(String name, String query) {
        assertThat(db.api.create(CreateOptions.of(name, query).withRefreshMode(RefreshMode.DIFFERENTIAL))
                .streamTable().refreshMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        db.api.create(CreateOptions.of(name + "_full", query).withRefreshMode(RefreshMode.FULL));
        if (immediate) {
            assertThat(db.api.create(CreateOptions.of(name + "_imm", query).withRefreshMode(RefreshMode.IMMEDIATE))
                    .streamTable().refreshMode()).isEqualTo(RefreshMode.IMMEDIATE);
            db.assertOracle(name + "_imm");
        }
    }

    /** Runs the DML, refreshes both twins and checks them; returns the DIFFERENTIAL refresh. */
    public RefreshResult step(String name, String... dml) {
        for (String statement : dml) {
            db.exec(statement);
            if (immediate) {
                db.assertOracle(name + "_imm");
            }
        }
        RefreshResult r = db.api.refresh(name);
        assertThat(r.action()).isIn("DIFFERENTIAL", "NO_DATA");
        db.api.refresh(name + "_full");
        db.assertOracle(name);
        db.assertOracle(name + "_full");
        assertThat(rows(name)).isEqualTo(rows(name + "_full"));
        if (immediate) {
            assertThat(rows(name + "_imm")).isEqualTo(rows(name + "_full"));
        }
        return r;
    }

    private List<String> rows(String st) {
        return db.queryStrings("SELECT (t.*)::text FROM (SELECT * FROM " + Sql.quoteIdent(st) + ") t ORDER BY 1");
    }
}
