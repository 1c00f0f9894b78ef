//! Identifiers of every entity: server-made UUIDs (v7, time-ordered), one type per entity so
//! that a step id can never be passed where a signer id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (one read from storage or a request).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

id_type!(
    /// Identifies a signing process.
    ProcessId
);
id_type!(
    /// Identifies a step (recipient group) of a signing process.
    StepId
);
id_type!(
    /// Identifies one signer entry (a person in a role) of a step.
    EntryId
);
id_type!(
    /// Identifies a document profile.
    ProfileId
);
id_type!(
    /// Identifies a document attribute.
    AttributeId
);
id_type!(
    /// Identifies a contact.
    ContactId
);
id_type!(
    /// Identifies a process template.
    TemplateId
);
id_type!(
    /// Identifies an auditing event.
    AuditEventId
);
id_type!(
    /// Identifies a webhook subscription.
    SubscriptionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_strings_and_json() {
        let id = ProcessId::from_uuid(Uuid::now_v7());
        let parsed: ProcessId = id.to_string().parse().expect("a printed id parses");
        assert_eq!(parsed, id);
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(json, format!("\"{id}\""));
    }

    #[test]
    fn a_malformed_id_is_rejected() {
        assert!("not-a-uuid".parse::<EntryId>().is_err());
    }
}
