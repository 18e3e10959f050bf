//! The row primitives written once, in the SQL both backends speak.
//!
//! SQLite and PostgreSQL accept the same statements for everything the
//! [`Tx`](crate::Tx) trait does (`ON CONFLICT … DO UPDATE SET … = excluded.…`,
//! `LIMIT`/`OFFSET`, `COUNT(*)`, partial indexes), as long as the schema
//! stores integers as `BIGINT` and booleans as `0`/`1`. So the statements and
//! the mapping of columns to rows live here, in [`SqlTx`], and a backend only
//! supplies a [`Driver`]: run a statement with parameters, hand each result
//! row over. Placeholders are written `?1`, `?2`, …; a driver whose database
//! numbers them otherwise (PostgreSQL's `$1`) rewrites them once per
//! statement (see [`numbered_placeholders`]).
//!
//! Nothing here depends on a database library.

#[macro_use]
mod rows;
mod tx;

use crate::{StoreError, StoreResult};

/// One statement parameter, borrowed from the row being written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param<'a> {
    /// A `BIGINT` (also booleans, as 0 or 1).
    Int(i64),
    /// A `TEXT`.
    Text(&'a str),
    /// SQL `NULL`.
    Null,
}

impl From<&i64> for Param<'_> {
    fn from(v: &i64) -> Self {
        Param::Int(*v)
    }
}
impl From<&bool> for Param<'_> {
    fn from(v: &bool) -> Self {
        Param::Int(i64::from(*v))
    }
}
impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(v)
    }
}
impl<'a> From<&&'a String> for Param<'a> {
    fn from(v: &&'a String) -> Self {
        Param::Text(v)
    }
}
impl<'a> From<&&'a str> for Param<'a> {
    fn from(v: &&'a str) -> Self {
        Param::Text(v)
    }
}
impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Param::Null, Param::Text)
    }
}
impl<'a> From<&Option<&'a str>> for Param<'a> {
    fn from(v: &Option<&'a str>) -> Self {
        v.map_or(Param::Null, Param::Text)
    }
}
impl From<&Option<i64>> for Param<'_> {
    fn from(v: &Option<i64>) -> Self {
        v.map_or(Param::Null, Param::Int)
    }
}

/// Builds a `&[Param]` from expressions, borrowing each.
#[macro_export]
macro_rules! params {
    ($($e:expr),* $(,)?) => { &[$($crate::sql::Param::from(&$e)),*][..] };
}

/// One result row, read by column index.
pub trait SqlRow {
    /// An integer column (`None` for NULL).
    fn int(&self, i: usize) -> StoreResult<Option<i64>>;
    /// A text column (`None` for NULL).
    fn text(&self, i: usize) -> StoreResult<Option<String>>;
}

/// A Rust value a column can be read into.
pub trait FromCol: Sized {
    /// Reads column `i` of `r`.
    fn from_col(r: &dyn SqlRow, i: usize) -> StoreResult<Self>;
}

fn null_in(i: usize) -> StoreError {
    StoreError::Other(format!("column {i} is NULL where a value is required"))
}

impl FromCol for i64 {
    fn from_col(r: &dyn SqlRow, i: usize) -> StoreResult<Self> {
        r.int(i)?.ok_or_else(|| null_in(i))
    }
}
impl FromCol for Option<i64> {
    fn from_col(r: &dyn SqlRow, i: usize) -> StoreResult<Self> {
        r.int(i)
    }
}
impl FromCol for bool {
    fn from_col(r: &dyn SqlRow, i: usize) -> StoreResult<Self> {
        Ok(i64::from_col(r, i)? != 0)
    }
}
impl FromCol for String {
    fn from_col(r: &dyn SqlRow, i: usize) -> StoreResult<Self> {
        r.text(i)?.ok_or_else(|| null_in(i))
    }
}
impl FromCol for Option<String> {
    fn from_col(r: &dyn SqlRow, i: usize) -> StoreResult<Self> {
        r.text(i)
    }
}

impl dyn SqlRow + '_ {
    /// Column `i` as `T`.
    pub fn get<T: FromCol>(&self, i: usize) -> StoreResult<T> {
        T::from_col(self, i)
    }
}

/// What a backend supplies: statements run inside the transaction it opened.
pub trait Driver {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> StoreResult<u64>;
    /// Runs a query and hands each row to `each`, in order.
    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// Whether the database locks rows for its writers
    /// (`FOR UPDATE SKIP LOCKED`); SQLite's single writer has no need.
    fn locks_rows(&self) -> bool {
        false
    }
}

/// The [`Tx`](crate::Tx) of any SQL backend: the shared statements over the
/// backend's [`Driver`].
pub struct SqlTx<D> {
    driver: D,
    notes: Option<crate::Changes>,
}

impl<D: Driver> SqlTx<D> {
    /// Wraps a driver whose transaction is open.
    pub fn new(driver: D) -> Self {
        SqlTx { driver, notes: None }
    }

    /// What the transaction noted it changed ([`crate::Tx::note_changes`]);
    /// `None` when it said nothing.
    pub fn notes(&self) -> Option<&crate::Changes> {
        self.notes.as_ref()
    }
}

/// Rewrites `?N` placeholders as `$N` (PostgreSQL's), leaving string
/// literals and quoted identifiers alone.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_counts_match_the_lists() {
        assert_eq!(rows::EIP_COLS.split(',').count(), rows::EIP_NCOLS);
        assert_eq!(instance_cols!().split(',').count(), rows::INSTANCE_NCOLS);
    }

    #[test]
    fn placeholders_are_renumbered_outside_quotes_only() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND \"d?\" = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND \"d?\" = $12"
        );
    }

    #[test]
    fn params_borrow_rows_and_map_options_to_null() {
        let id = String::from("eip-1");
        let none: Option<String> = None;
        let at: Option<i64> = Some(5);
        assert_eq!(
            params![id, none, at, true, "x"],
            &[Param::Text("eip-1"), Param::Null, Param::Int(5), Param::Int(1), Param::Text("x")][..]
        );
    }
}
