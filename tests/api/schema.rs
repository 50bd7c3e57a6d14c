//! The schema on both databases: the same tables with the same columns in the
//! same order and types, and databases made by the old `sqlx::migrate!`
//! folders still open. SQLite always; PostgreSQL when
//! `HUDDLE_TEST_DATABASE_URL` is set (CI sets it). Without it the PostgreSQL
//! halves say they were skipped, and fail under `CI=true`.

use huddle_actors::db::{Db, DbOptions};
use sqlx::{Connection, Row};

use crate::helpers::TestDb;

/// Every table (name order) with its columns (`(name, type)`, declared order).
type Schema = Vec<(String, Vec<(String, String)>)>;

/// sqlx's own bookkeeping table, made by sqlx per dialect, not by our files.
const SQLX_TABLE: &str = "_sqlx_migrations";

async fn sqlite_schema(url: &str) -> Schema {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> $1 ORDER BY name",
    )
    .bind(SQLX_TABLE)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = Schema::new();
    for table in tables {
        let columns = sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
            .bind(&table)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1).to_lowercase()))
            .collect();
        out.push((table, columns));
    }
    out
}

async fn postgres_schema(url: &str) -> Schema {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name <> $1 \
         ORDER BY table_name, ordinal_position",
    )
    .bind(SQLX_TABLE)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = Schema::new();
    for row in rows {
        let (table, column, kind): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        match out.last_mut() {
            Some((last, columns)) if *last == table => columns.push((column, kind)),
            _ => out.push((table, vec![(column, kind)])),
        }
    }
    out
}

/// A fresh SQLite file.
fn sqlite() -> (TestDb, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("huddle.db").display());
    (TestDb::Sqlite(dir), url)
}

/// A fresh PostgreSQL database, or `None` (after saying so) without
/// `HUDDLE_TEST_DATABASE_URL`.
async fn postgres(test: &str) -> Option<(TestDb, String)> {
    if std::env::var("HUDDLE_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        return Some(TestDb::create().await);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: CI=true: HUDDLE_TEST_DATABASE_URL must be set"
    );
    eprintln!(
        "skipped: {test}: the PostgreSQL half needs HUDDLE_TEST_DATABASE_URL \
         (e.g. postgres://postgres@127.0.0.1:5432/test)"
    );
    None
}

async fn migrated(url: &str) {
    let db = Db::connect(url, &DbOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
}

fn summary(schema: &Schema) -> String {
    let columns: usize = schema.iter().map(|(_, c)| c.len()).sum();
    format!("{} tables, {columns} columns", schema.len())
}

#[actix_web::test]
async fn both_databases_end_with_the_same_tables_and_columns() {
    let (_lite, lite_url) = sqlite();
    migrated(&lite_url).await;
    let lite = sqlite_schema(&lite_url).await;
    assert!(lite.iter().any(|(t, _)| t == "rooms"), "{lite:?}");
    assert!(
        lite.iter()
            .flat_map(|(_, c)| c)
            .all(|(_, kind)| kind == "text" || kind == "bigint"),
        "only TEXT and BIGINT columns (migrations/README.md): {lite:?}"
    );
    eprintln!("schema: SQLite: {}", summary(&lite));
    let Some((_pg, pg_url)) = postgres("both_databases_end_with_the_same_tables_and_columns").await
    else {
        return;
    };
    migrated(&pg_url).await;
    let pg = postgres_schema(&pg_url).await;
    eprintln!("schema: PostgreSQL: {}", summary(&pg));
    let tables = |s: &Schema| s.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>();
    assert_eq!(tables(&lite), tables(&pg), "the same tables");
    for ((table, lite_columns), (_, pg_columns)) in lite.iter().zip(&pg) {
        assert_eq!(lite_columns, pg_columns, "the columns of {table}");
    }
    eprintln!("schema: SQLite and PostgreSQL agree");
}

/// What every database made before the folders merged recorded: the same
/// files, run by `sqlx::migrate!` on a folder (they were byte-identical in
/// `migrations/sqlite` and `migrations/postgres`).
async fn made_by_the_old_migrations(url: &str) {
    let db = Db::connect(url, &DbOptions::default()).await.unwrap();
    db.close().await; // it installed the drivers and created the SQLite file
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    sqlx::migrate!("migrations/common")
        .run(&pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn old_database_opens(url: &str) {
    made_by_the_old_migrations(url).await;
    let db = Db::connect(url, &DbOptions::default()).await.unwrap();
    db.migrate()
        .await
        .expect("a database made by the old migrations opens (no checksum mismatch)");
    db.close().await;
}

#[actix_web::test]
async fn a_database_made_by_the_old_migrations_still_opens() {
    let (_lite, lite_url) = sqlite();
    old_database_opens(&lite_url).await;
    let Some((_pg, pg_url)) = postgres("a_database_made_by_the_old_migrations_still_opens").await
    else {
        return;
    };
    old_database_opens(&pg_url).await;
}
