//! Signer portal matching (PRODUCT.md section 8): a person is a normalised personal code and
//! a country; an anonymous entry is reached by its id alone.

use crate::ids::SignerId;
use crate::process::{ProcessData, StepSigner};
use crate::query::PersonKey;

/// The entry belongs to `person`.
pub fn is_person(entry: &StepSigner, person: &PersonKey) -> bool {
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
pub fn may_act(entry: &StepSigner, claimed: Option<&PersonKey>) -> bool {
    entry.anonymous() || claimed.is_some_and(|p| is_person(entry, p))
}

/// The process as the entry `viewer` may see it: other anonymous entries' names and codes
/// masked.
pub fn view_for_signer(process: &ProcessData, viewer: SignerId) -> ProcessData {
    let mut view = process.clone();
    for e in view.steps.iter_mut().flat_map(|s| s.signers.iter_mut()) {
        if e.id != viewer && e.anonymous() {
            e.details.signer_name = None;
            e.details.signer_personal_code = None;
            e.details.signer_email = None;
        }
    }
    view
}
