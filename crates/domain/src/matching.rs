//! Signer portal matching (PRODUCT.md section 8): a person is a normalised personal code and
//! a country; an anonymous entry is reached by its id alone.

use crate::ids::EntryId;
use crate::process::{Entry, PortalView, ProcessData, ProcessStep};
use crate::query::PersonKey;

/// The entry belongs to `person`.
pub fn is_person(entry: &Entry, person: &PersonKey) -> bool {
    match (
        &entry.details.signer_personal_code,
        entry.details.signer_country,
    ) {
        (Some(code), Some(country)) => {
            country == person.country && code.normalized() == person.code
        }
        _ => false,
    }
}

/// The portal may act for `entry` with the identity it claims: an anonymous entry needs no
/// identity (its id is the secret); any other needs a matching one.
pub fn may_act(entry: &Entry, claimed: Option<&PersonKey>) -> bool {
    entry.anonymous() || claimed.is_some_and(|p| is_person(entry, p))
}

/// The process as the entry `viewer` may see it: its own entry in full, the others as
/// [`PortalView`] shows them.
pub fn view_for_signer(process: &ProcessData, viewer: EntryId) -> PortalView {
    PortalView::new(process.clone(), vec![viewer])
}

/// The entries of `person` in a step.
pub fn own_entries(step: &ProcessStep, person: &PersonKey) -> Vec<EntryId> {
    step.entries
        .iter()
        .filter(|e| is_person(e, person))
        .map(|e| e.id)
        .collect()
}
