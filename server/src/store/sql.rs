//! SQL built at run time (filters, searches) with its values bound, never interpolated:
//! `?` placeholders become `$n` in the order values are pushed, as both backends read them.

/// Values bound to a dynamically built query, in `$n` order.
pub(super) enum Arg {
    Int(i64),
    Text(String),
}

pub(super) struct SqlBuilder {
    pub(super) sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    pub(super) fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }
    /// Appends `sql` with each `?` replaced by the next `$n` for one bound value.
    pub(super) fn push(&mut self, sql: &str, args: Vec<Arg>) {
        let mut args = args.into_iter();
        for (i, part) in sql.split('?').enumerate() {
            if i > 0 {
                self.args
                    .push(args.next().expect("one value per placeholder"));
                self.sql.push_str(&format!("${}", self.args.len()));
            }
            self.sql.push_str(part);
        }
    }
    pub(super) fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(&self.sql);
        for arg in &self.args {
            q = match arg {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}
