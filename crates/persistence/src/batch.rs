//! Multi-row inserts on both backends. diesel-async cannot send SQLite's multi-row `INSERT`
//! (Diesel special-cases it for its synchronous connections only), so on SQLite the
//! statement runs through the synchronous connection on the wrapper's blocking thread; on
//! PostgreSQL it is one async statement. Either way a batch is one statement.

use std::future::Future;

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::db::SqliteConn;
use crate::models::{AuditRow, EntryRow, LinkRow, OutboxRow, StepRow};
use crate::schema::{audit_events, entries, outbox, profile_attributes, steps};

macro_rules! insert_many {
    ($($(#[$doc:meta])* $method:ident: $row:ty => $table:expr;)+) => {
        /// Inserts many rows of one table in one statement.
        pub(crate) trait InsertMany {
            $(
                $(#[$doc])*
                fn $method(&mut self, rows: Vec<$row>)
                    -> impl Future<Output = QueryResult<usize>> + Send;
            )+
        }

        impl InsertMany for AsyncPgConnection {
            $(
                async fn $method(&mut self, rows: Vec<$row>) -> QueryResult<usize> {
                    if rows.is_empty() {
                        return Ok(0);
                    }
                    diesel_async::RunQueryDsl::execute(
                        diesel::insert_into($table).values(&rows),
                        self,
                    )
                    .await
                }
            )+
        }

        impl InsertMany for SqliteConn {
            $(
                async fn $method(&mut self, rows: Vec<$row>) -> QueryResult<usize> {
                    if rows.is_empty() {
                        return Ok(0);
                    }
                    self.spawn_blocking(move |conn| {
                        diesel::RunQueryDsl::execute(
                            diesel::insert_into($table).values(&rows),
                            conn,
                        )
                    })
                    .await
                }
            )+
        }
    };
}

insert_many! {
    /// Steps of processes.
    insert_steps: StepRow => steps::table;
    /// Entries of steps.
    insert_entries: EntryRow => entries::table;
    /// Chained audit rows.
    insert_audit_rows: AuditRow => audit_events::table;
    /// Outbox rows.
    insert_outbox_rows: OutboxRow => outbox::table;
    /// Links of a profile to its attributes.
    insert_links: LinkRow => profile_attributes::table;
}
