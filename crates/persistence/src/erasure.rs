//! `ErasureStore`: a person's erasure (PRODUCT.md section 11) written in one transaction.
//! The processes come erased from the domain and are written like a save (at the version
//! they were read at, deleted ones too); contacts and outbox rows are erased here by the
//! person's normalised code and country, and by the erased entries.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use pas_domain::erasure::{ErasedElsewhere, Erasure};
use pas_domain::ports::{ErasureStore, RepoError};
use pas_domain::process::SigningProcess;
use pas_domain::query::PersonKey;

use crate::audit::append_audit;
use crate::batch::chunked;
use crate::columns::DbId;
use crate::db::Db;
use crate::models::{FAILED, PENDING, ProcessRows};
use crate::processes::{replace_children, update_process};
use crate::schema::{contacts, outbox};

/// The address an erased recipient's outbox rows keep: a valid address in the `.invalid`
/// top-level domain (RFC 2606), which can never be delivered to.
pub const ERASED_ADDRESS: &str = "erased@erased.invalid";

/// Why a pending email to an erased recipient was given up.
const ERASED_ERROR: &str = "recipient erased (POST /persons/erasure)";

/// Largest `IN (…)` list of entry ids sent at once.
const IN_CHUNK: usize = 500;

#[async_trait]
impl ErasureStore for Db {
    async fn processes_of_person(
        &self,
        person: &PersonKey,
    ) -> Result<Vec<SigningProcess>, RepoError> {
        self.processes_with_person(person, true).await
    }

    async fn erase(&self, erasure: &Erasure) -> Result<ErasedElsewhere, RepoError> {
        let code = erasure.person.code.clone();
        let country = erasure.person.country.as_str().to_owned();
        let entry_ids: Vec<DbId> = erasure.entries.iter().copied().map(DbId::from).collect();
        with_db!(self, Write, async |conn| {
            for (process, read_at) in &erasure.processes {
                let rows = ProcessRows::of(process);
                update_process(conn, &rows, *read_at, true).await?;
                replace_children(conn, &rows).await?;
            }
            let contacts = diesel::update(
                contacts::table
                    .filter(contacts::personal_code_norm.eq(&code))
                    .filter(contacts::country.eq(&country)),
            )
            .set((
                contacts::personal_code.eq(None::<String>),
                contacts::personal_code_norm.eq(None::<String>),
                contacts::name.eq(None::<String>),
                contacts::name_lower.eq(None::<String>),
                contacts::email.eq(None::<String>),
                contacts::email_lower.eq(None::<String>),
                contacts::phone.eq(None::<String>),
            ))
            .execute(conn)
            .await?;
            let mut messages = 0;
            for chunk in chunked(entry_ids.clone(), IN_CHUNK) {
                // A pending email to an erased address cannot be sent any more. (Statuses
                // are stored in lower case, not as `OutboxState` spells them.)
                diesel::update(
                    outbox::table
                        .filter(outbox::signer_id.eq_any(chunk.clone()))
                        .filter(outbox::status.eq(PENDING)),
                )
                .set((
                    outbox::status.eq(FAILED),
                    outbox::last_error.eq(ERASED_ERROR),
                ))
                .execute(conn)
                .await?;
                messages += diesel::update(outbox::table.filter(outbox::signer_id.eq_any(chunk)))
                    .set(outbox::to_email.eq(ERASED_ADDRESS))
                    .execute(conn)
                    .await?;
            }
            append_audit(conn, self.audit_keys.as_deref(), &erasure.audit).await?;
            Ok(ErasedElsewhere {
                contacts: u64::try_from(contacts).unwrap_or(u64::MAX),
                messages: u64::try_from(messages).unwrap_or(u64::MAX),
            })
        })
        .await
        .inspect(|_| crate::metrics::audit_appended(erasure.audit.len()))
    }
}
