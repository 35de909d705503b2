package io.pgtrickle.core.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.Setting;
import io.pgtrickle.core.testing.Db;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class CatalogInstallerTest {

    /** Tables, columns, types, defaults and indexes of both schemas: what "same catalog" means. */
    private static final String SCHEMA_SIGNATURE = """
            SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
              SELECT c.table_schema || '.' || c.table_name || '.' || c.column_name || ' ' || c.data_type
                     || ' ' || c.is_nullable || ' ' || coalesce(c.column_default, '') AS x
                FROM information_schema.columns c WHERE c.table_schema IN ('pgtrickle', 'pgtrickle_changes')
              UNION ALL
              SELECT schemaname || ' ' || indexdef FROM pg_indexes WHERE schemaname IN ('pgtrickle', 'pgtrickle_changes')
              UNION ALL
              SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'pgtrickle'
            ) s""";

    @Test
    void installIsIdempotentAndRecordsTheVersion() {
        Db db = Db.createEmpty(CatalogInstallerTest.class);
        assertThat(db.api.install().fromVersion()).isZero();
        String first = db.queryString(SCHEMA_SIGNATURE);
        CatalogInstaller.InstallResult again = db.api.install();
        assertThat(again.changed()).isFalse();
        assertThat(again.toVersion()).isEqualTo(CatalogInstaller.latestVersion());
        assertThat(db.queryString(SCHEMA_SIGNATURE)).isEqualTo(first);
        assertThat(db.queryLong("SELECT max(version) FROM pgtrickle.pgt_schema_version")).isEqualTo(CatalogInstaller.latestVersion());
        assertThat(db.queryLong("SELECT count(*) FROM pg_indexes WHERE indexname = 'pgt_refresh_history_start_time_idx'")).isEqualTo(1);
    }

    @Test
    void concurrentInstallsDoNotCollide() throws Exception {
        Db db = Db.createEmpty(CatalogInstallerTest.class);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<CatalogInstaller.InstallResult>> results = pool.invokeAll(List.of(
                db.api::install, db.api::install, db.api::install, db.api::install));
        for (Future<CatalogInstaller.InstallResult> r : results) {
            assertThat(r.get().toVersion()).isEqualTo(CatalogInstaller.latestVersion());
        }
        pool.shutdown();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_schema_version")).isEqualTo(CatalogInstaller.MIGRATIONS.size());
    }

    @Test
    void aVersion1CatalogIsUpgradedInPlaceToTheSameSchemaAsAFreshInstall() throws Exception {
        Db fresh = Db.create(CatalogInstallerTest.class);
        Db old = Db.createEmpty(CatalogInstallerTest.class);
        try (InputStream in = getClass().getResourceAsStream("/fixtures/catalog-v1.sql")) {
            old.exec(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        old.exec("CREATE TABLE t (id int PRIMARY KEY)");
        CatalogInstaller.InstallResult r = old.api.install();
        assertThat(r.fromVersion()).isEqualTo(1);
        assertThat(r.toVersion()).isEqualTo(CatalogInstaller.latestVersion());
        assertThat(old.queryString(SCHEMA_SIGNATURE)).isEqualTo(fresh.queryString(SCHEMA_SIGNATURE));
        // The upgraded catalog works.
        old.api.create(CreateOptions.of("t_st", "SELECT id FROM t"));
        old.assertOracle("t_st");
    }

    @Test
    void usingTheApiWithoutInstallingSaysWhatToDo() {
        Db db = Db.createEmpty(CatalogInstallerTest.class);
        assertThatThrownBy(() -> db.api.list())
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CATALOG_NOT_INSTALLED);
                    assertThat(e.hint()).contains("pgtrickle install");
                });
    }

    @Test
    void aCatalogNewerThanTheEngineIsRefused() {
        Db db = Db.create(CatalogInstallerTest.class);
        db.exec("INSERT INTO pgtrickle.pgt_schema_version VALUES (999, 'from the future', now())");
        assertThatThrownBy(() -> db.api.install())
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CATALOG_TOO_NEW));
        assertThatThrownBy(() -> db.api.list())
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CATALOG_TOO_NEW));
    }

    @Test
    void theDocumentedSettingsTableIsTheGeneratedOne() throws Exception {
        Path doc = Path.of("..", "docs", "CONFIGURATION.md");
        assertThat(Files.readString(doc)).as("docs/CONFIGURATION.md must contain Setting.markdownTable() verbatim")
                .contains(Setting.markdownTable());
    }

    @Test
    void installingCommitsOnlyOnItsOwnConnection() throws Exception {
        Db db = Db.createEmpty(CatalogInstallerTest.class);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            new CatalogInstaller().install(c);
            c.rollback();
        }
        assertThat(db.queryString("SELECT to_regclass('pgtrickle.pgt_stream_tables')::text")).isNull();
    }
}
