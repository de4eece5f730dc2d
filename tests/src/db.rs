//! Reading a test server's database directly, for checks the API does not expose (every row
//! of a table, counters against the rows they count).

use sqlx::{any::AnyPoolOptions, Row};

/// The rows of `sql`, each as its columns read as text (`CAST(... AS TEXT)` what is not).
pub fn rows(database_url: &str, sql: &str) -> Vec<Vec<String>> {
    let (url, sql) = (database_url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(async {
                sqlx::any::install_default_drivers();
                let pool = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .expect("the test database opens");
                let rows = sqlx::query(&sql)
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| row.try_get::<String, _>(i).expect("a text column"))
                            .collect()
                    })
                    .collect()
            })
    })
    .join()
    .expect("reading the database does not panic")
}
