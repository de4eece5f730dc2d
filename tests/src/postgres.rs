//! A fresh PostgreSQL database per test, in the server at `BUGLE_TEST_POSTGRES_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`).

use sqlx::{Connection, Executor};

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn admin_url() -> String {
    std::env::var("BUGLE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// The URL of a new, empty database; `None` (after printing why) when no PostgreSQL answers
/// outside CI. Under `CI=true` a missing PostgreSQL panics: CI must test both backends.
pub fn fresh_database() -> Option<String> {
    let admin = admin_url();
    let name = format!("bugle_test_{}", uuid::Uuid::new_v4().simple());
    // A thread of its own, so this works from sync tests and from inside async ones.
    let created = {
        let (admin, name) = (admin.clone(), name.clone());
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin).await?;
                    conn.execute(format!("CREATE DATABASE {name}").as_str())
                        .await?;
                    conn.close().await
                })
        })
        .join()
        .expect("creating the database does not panic")
    };
    match created {
        Ok(()) => Some(with_database(&admin, &name)),
        Err(e) if crate::in_ci() => {
            panic!("PostgreSQL is required under CI=true but {admin} failed: {e}")
        }
        Err(e) => {
            eprintln!("skipping PostgreSQL: cannot create a database at {admin}: {e}");
            None
        }
    }
}

/// `admin` with its database name replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
