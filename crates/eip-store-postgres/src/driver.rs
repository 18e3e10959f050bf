//! The shared statements on a `postgres` connection: placeholders renumbered,
//! statements prepared once per connection, parameters bound as the
//! statement's inferred types, and server errors sorted into the store's.

use eip_store::sql::{Driver, Param, SqlRow, numbered_placeholders};
use eip_store::{StoreError, StoreResult};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};
use std::collections::HashMap;

/// Most statements kept prepared on one connection; the fixed statements are
/// far fewer, the rest are `DescribeEipAddresses` filter combinations.
const CACHE_CAPACITY: usize = 512;

/// A connection and the statements prepared on it.
pub(crate) struct Conn {
    pub(crate) client: Client,
    prepared: HashMap<String, Statement>,
}

impl Conn {
    pub(crate) fn new(client: Client) -> Conn {
        Conn { client, prepared: HashMap::new() }
    }

    fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(st) = self.prepared.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(&numbered_placeholders(sql)).map_err(|e| map_err(&e))?;
        if self.prepared.len() >= CACHE_CAPACITY {
            self.prepared.clear();
        }
        self.prepared.insert(sql.to_owned(), st.clone());
        Ok(st)
    }
}

/// The [`Driver`] of one open transaction.
pub(crate) struct PgDriver<'c> {
    conn: &'c mut Conn,
}

impl<'c> PgDriver<'c> {
    pub(crate) fn new(conn: &'c mut Conn) -> Self {
        PgDriver { conn }
    }
}

/// A parameter bound as whatever the server inferred for its placeholder.
#[derive(Debug)]
struct Bind<'a>(Param<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Param::Null => Ok(IsNull::Yes),
            Param::Text(s) => s.to_sql(ty, out),
            Param::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                _ => Err(format!("an integer bound to a {ty} placeholder").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn binds<'a>(params: &'a [Param<'a>]) -> Vec<Bind<'a>> {
    params.iter().map(|p| Bind(*p)).collect()
}

fn refs<'a>(b: &'a [Bind<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    b.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

struct PgRow<'r>(&'r postgres::Row);

impl SqlRow for PgRow<'_> {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.0.try_get(i).map_err(|e| map_err(&e))
    }

    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.0.try_get(i).map_err(|e| map_err(&e))
    }
}

impl Driver for PgDriver<'_> {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> StoreResult<u64> {
        let st = self.conn.statement(sql)?;
        let b = binds(params);
        self.conn.client.execute(&st, &refs(&b)).map_err(|e| map_err(&e))
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let st = self.conn.statement(sql)?;
        let b = binds(params);
        for row in self.conn.client.query(&st, &refs(&b)).map_err(|e| map_err(&e))? {
            each(&PgRow(&row))?;
        }
        Ok(())
    }

    fn locks_rows(&self) -> bool {
        true
    }
}

/// Sorts a server or connection error into the store's kinds.
pub(crate) fn map_err(e: &postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let Some(db) = e.as_db_error() else {
        // No server reply: the connection is gone or never came up.
        return if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Other(e.to_string())
        };
    };
    let what = match (db.constraint(), db.table()) {
        (Some(c), _) => format!("{}: {c}", db.message()),
        (None, Some(t)) => format!("{}: {t}", db.message()),
        _ => db.message().to_owned(),
    };
    let code = db.code();
    if *code == SqlState::UNIQUE_VIOLATION {
        StoreError::UniqueViolation(what)
    } else if [SqlState::CHECK_VIOLATION, SqlState::FOREIGN_KEY_VIOLATION, SqlState::NOT_NULL_VIOLATION].contains(code)
    {
        StoreError::ConstraintViolation(what)
    } else if [SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED].contains(code) {
        StoreError::Conflict(what)
    } else if code.code().starts_with("08") || code.code().starts_with("57P") {
        // Connection exceptions and operator intervention (shutdown, restart).
        StoreError::Unavailable(what)
    } else {
        StoreError::Other(format!("{} ({})", what, code.code()))
    }
}
