//! Multi-row statements of ingest batches: one statement writes many rows on PostgreSQL, which
//! pays a round trip per statement, and one row on SQLite, which pays none.

use super::Backend;

/// The n-th (1-based) bound parameter of a statement with many. SQLite gets anonymous `?`s:
/// binding numbered ones makes it look each name up in a list, which is quadratic in the
/// number of parameters and measured at half the writer's time for a 100-row insert.
pub(super) fn placeholder(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `(p, p, ...), (p, p, ...)`: `rows` tuples of `cols` parameters numbered from `first`.
pub(super) fn tuples(backend: Backend, first: usize, rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (0..cols)
                .map(|c| placeholder(backend, first + r * cols + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows per multi-row write statement. PostgreSQL pays a round trip per statement, so many
/// rows go in each. SQLite pays none, and a statement writing several rows that may fail
/// halfway (a constraint) keeps a statement journal, a copy of every page it touches; one
/// row per statement also keeps the SQL text, and so the prepared statement, the same.
pub(super) fn rows_per_write(backend: Backend, many: usize) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => many,
    }
}

/// Rows per multi-row statement of a batch's counter and facet writes.
pub(super) const ROWS_PER_STATEMENT: usize = 100;
