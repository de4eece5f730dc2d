//! Why a query does not parse, and where.

/// A query that does not parse. Positions count characters (not bytes), from 0; `end` is
/// exclusive and may equal `start` when something is missing (a value at the end of input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (column {column})", column = .start + 1)]
pub struct QueryError {
    pub start: usize,
    pub end: usize,
    pub reason: String,
}

impl QueryError {
    pub(super) fn new(start: usize, end: usize, reason: impl Into<String>) -> Self {
        QueryError {
            start,
            end: end.max(start),
            reason: reason.into(),
        }
    }

    /// 1-based column of the start, as shown to people.
    pub fn column(&self) -> usize {
        self.start + 1
    }

    pub fn span(&self) -> (usize, usize) {
        (self.start, self.end)
    }

    /// The query, and under it carets at the span and the reason (for logs and terminals;
    /// the dashboard draws its own from [`QueryError::span`]). Other whitespace (tabs,
    /// newlines) is shown as spaces so the carets line up.
    pub fn render(&self, input: &str) -> String {
        let line: String = input
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        let carets = "^".repeat((self.end - self.start).max(1));
        format!(
            "{line}\n{:pad$}{carets} {}",
            "",
            self.reason,
            pad = self.start
        )
    }
}
