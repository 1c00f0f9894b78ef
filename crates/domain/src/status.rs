//! The enumerations of the seed document, with their exact wire spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The spelling of a value that is not one of an enum's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} value")]
pub struct UnknownVariant {
    /// Which enumeration was parsed, e.g. `processStatus`.
    pub kind: &'static str,
}

macro_rules! wire_enum {
    ($(#[doc = $doc:literal])+ $(#[allow($lint:ident)])? $name:ident as $kind:literal $(, schema $schema:literal)? { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])+
        $(#[allow($lint)])?
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire spelling (also the stored form).
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownVariant { kind: $kind }),
                }
            }
        }

        // Written out rather than derived: the derive does not see the `serde(rename)` of a
        // macro-made variant and would document the Rust names.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!($($doc),+).trim()))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(wire_enum!(@schema $name $($schema)?))
            }
        }
    };
    (@schema $name:ident) => { stringify!($name) };
    (@schema $name:ident $schema:literal) => { $schema };
}

wire_enum!(
    /// Lifecycle of a signing process (PRODUCT.md section 5).
    ProcessStatus as "processStatus" {
        /// A draft: fully editable, nobody notified.
        Pending = "PENDING",
        /// Running: exactly one step is STARTED.
        Started = "STARTED",
        /// Every step completed.
        Completed = "COMPLETED",
        /// Canceled by its owner.
        Canceled = "CANCELED",
        /// A signer or approver declined.
        Declined = "DECLINED",
    }
);

impl ProcessStatus {
    /// COMPLETED, CANCELED and DECLINED are final (rule 7).
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Canceled | Self::Declined)
    }
}

wire_enum!(
    /// Lifecycle of one step.
    StepStatus as "stepStatus" {
        /// Waits until the previous step completes (or the process starts).
        WaitingForPrevious = "WAITING_FOR_PREVIOUS",
        /// Its entries are asked to act.
        Started = "STARTED",
        /// Canceled with its process.
        Canceled = "CANCELED",
        /// Every signer and approver of the step acted.
        Completed = "COMPLETED",
    }
);

impl StepStatus {
    /// COMPLETED and CANCELED steps can no longer change (rule 8).
    pub const fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Canceled)
    }
}

wire_enum!(
    /// What a person does in a step.
    SignerRole as "signerRole" {
        /// Views the document; never blocks a step.
        Viewer = "VIEWER",
        /// Signs the document.
        Signer = "SIGNER",
        /// Approves the document.
        Approver = "APPROVER",
        /// The person who started the process; takes no action.
        Initiator = "INITIATOR",
        /// An administrator of the process; takes no action.
        Administrator = "ADMINISTRATOR",
    }
);

impl SignerRole {
    /// SIGNER and APPROVER entries must act before their step completes (rule 4).
    pub const fn must_act(self) -> bool {
        matches!(self, Self::Signer | Self::Approver)
    }

    /// SIGNER, APPROVER and VIEWER entries receive a task when their step starts (rule 2).
    pub const fn gets_task(self) -> bool {
        matches!(self, Self::Signer | Self::Approver | Self::Viewer)
    }
}

wire_enum!(
    /// Where one signer entry stands.
    SigningStatus as "signingStatus" {
        /// The process is a draft.
        WaitingForProcess = "WAITING_FOR_PROCESS",
        /// An earlier step is still running.
        WaitingForPrevious = "WAITING_FOR_PREVIOUS",
        /// The entry's step is running and the entry has not acted.
        WaitingForAction = "WAITING_FOR_ACTION",
        /// A signer signed.
        Signed = "SIGNED",
        /// An approver approved.
        Approved = "APPROVED",
        /// A viewer viewed.
        Viewed = "VIEWED",
        /// A signer or approver declined.
        Declined = "DECLINED",
        /// The process ended before the entry acted.
        Canceled = "CANCELED",
        /// Initiators, administrators, and viewers left over at completion.
        NotRequired = "NOT_REQUIRED",
    }
);

impl SigningStatus {
    /// The entry has not acted and could still be asked to.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Self::WaitingForProcess | Self::WaitingForPrevious | Self::WaitingForAction
        )
    }

    /// The entry took an action of its own (signed, approved, viewed or declined).
    pub const fn has_acted(self) -> bool {
        matches!(
            self,
            Self::Signed | Self::Approved | Self::Viewed | Self::Declined
        )
    }
}

wire_enum!(
    /// Visibility scope as the seed spells it; `ALL` is only meaningful as a list filter.
    // The seed's one `Scope` schema is this one, with `ALL`.
    ScopeFilter as "scope", schema "Scope" {
        /// Only the owner's rows.
        Personal = "PERSONAL",
        /// Rows of the caller's group.
        Group = "GROUP",
        /// Rows visible to everyone.
        Global = "GLOBAL",
        /// Every row the caller may see.
        All = "ALL",
    }
);

wire_enum!(
    /// Visibility of a stored contact or template row (the seed's scope without `ALL`).
    Scope as "scope", schema "RowScope" {
        /// Visible to and changed by its owner only.
        Personal = "PERSONAL",
        /// Visible to and changed by members of its group.
        Group = "GROUP",
        /// Visible to everyone, changed by its owner.
        Global = "GLOBAL",
    }
);

impl ScopeFilter {
    /// The row scope this filter names, or `None` for `ALL`.
    pub const fn row_scope(self) -> Option<Scope> {
        match self {
            Self::Personal => Some(Scope::Personal),
            Self::Group => Some(Scope::Group),
            Self::Global => Some(Scope::Global),
            Self::All => None,
        }
    }
}

wire_enum!(
    /// Audit and notification event types: the seed's list (its names are its docs), and
    /// `PERSON_ERASED` (PRODUCT.md section 11).
    #[allow(missing_docs)]
    EventType as "eventType" {
        ProcessStarted = "PROCESS_STARTED",
        ProcessCanceled = "PROCESS_CANCELED",
        ProcessCompleted = "PROCESS_COMPLETED",
        ProcessUpdated = "PROCESS_UPDATED",
        ProcessDeleted = "PROCESS_DELETED",
        ProcessOpened = "PROCESS_OPENED",
        ProcessGetall = "PROCESS_GETALL",
        ProcessGetone = "PROCESS_GETONE",
        DocumentCreate = "DOCUMENT_CREATE",
        DocumentInfo = "DOCUMENT_INFO",
        DocumentDownload = "DOCUMENT_DOWNLOAD",
        DocumentDelete = "DOCUMENT_DELETE",
        DocumentCreateOrUpdate = "DOCUMENT_CREATE_OR_UPDATE",
        DocumentAddversion = "DOCUMENT_ADDVERSION",
        DocumentUpdate = "DOCUMENT_UPDATE",
        Signature = "SIGNATURE",
        Decline = "DECLINE",
        Approve = "APPROVE",
        TaskStarted = "TASK_STARTED",
        SignerDeclined = "SIGNER_DECLINED",
        ApproverDeclined = "APPROVER_DECLINED",
        SignerSigned = "SIGNER_SIGNED",
        ApproverApproved = "APPROVER_APPROVED",
        Reminder = "REMINDER",
        Failure = "FAILURE",
        AuditLoginStart = "AUDIT_LOGIN_START",
        AuditLoginCompleted = "AUDIT_LOGIN_COMPLETED",
        AuditLoginFault = "AUDIT_LOGIN_FAULT",
        AuditEmailReminder = "AUDIT_EMAIL_REMINDER",
        AuthCompleted = "AUTH_COMPLETED",
        AuthStart = "AUTH_START",
        PersonErased = "PERSON_ERASED",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_round_trips_through_its_wire_spelling() {
        for s in ProcessStatus::ALL {
            assert_eq!(s.as_str().parse::<ProcessStatus>(), Ok(*s));
        }
        for s in SigningStatus::ALL {
            let json = serde_json::to_string(s).expect("serialises");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(
            EventType::ALL.len(),
            32,
            "the seed lists 31 event types; PRODUCT.md section 11 adds PERSON_ERASED"
        );
    }

    #[test]
    fn an_unknown_spelling_is_rejected_by_name_and_by_serde() {
        assert_eq!(
            "DONE".parse::<ProcessStatus>(),
            Err(UnknownVariant {
                kind: "processStatus"
            })
        );
        assert!(serde_json::from_str::<SignerRole>("\"signer\"").is_err());
    }

    #[test]
    fn rule_7_final_statuses() {
        assert!(!ProcessStatus::Pending.is_final());
        assert!(!ProcessStatus::Started.is_final());
        assert!(ProcessStatus::Completed.is_final());
        assert!(ProcessStatus::Canceled.is_final());
        assert!(ProcessStatus::Declined.is_final());
    }
}

wire_enum!(
    /// How an outbox row is delivered (PRODUCT.md sections 12 and 14).
    OutboxChannel as "channel" {
        /// An email through SMTP or `MAIL_DIR`.
        Email = "EMAIL",
        /// A webhook delivery to a subscription's target.
        Webhook = "WEBHOOK",
    }
);

wire_enum!(
    /// The event types a webhook subscriber hears about (PRODUCT.md section 12): the
    /// process-level subset of [`EventType`], spelled the same.
    WebhookEventType as "webhookEventType" {
        /// A process was started.
        ProcessStarted = "PROCESS_STARTED",
        /// A step began: its entries have tasks.
        TaskStarted = "TASK_STARTED",
        /// A signer signed.
        SignerSigned = "SIGNER_SIGNED",
        /// An approver approved.
        ApproverApproved = "APPROVER_APPROVED",
        /// A signer declined (the process is declined).
        SignerDeclined = "SIGNER_DECLINED",
        /// An approver declined (the process is declined).
        ApproverDeclined = "APPROVER_DECLINED",
        /// Every step is done.
        ProcessCompleted = "PROCESS_COMPLETED",
        /// The process was cancelled.
        ProcessCanceled = "PROCESS_CANCELED",
        /// The process was changed.
        ProcessUpdated = "PROCESS_UPDATED",
        /// The process was deleted.
        ProcessDeleted = "PROCESS_DELETED",
    }
);

impl WebhookEventType {
    /// The webhook event type of an audit event type, when subscribers hear about it.
    ///
    /// ```
    /// use pas_domain::status::{EventType, WebhookEventType};
    /// assert_eq!(
    ///     WebhookEventType::of(EventType::SignerSigned),
    ///     Some(WebhookEventType::SignerSigned)
    /// );
    /// assert_eq!(WebhookEventType::of(EventType::ProcessGetone), None);
    /// ```
    pub const fn of(event: EventType) -> Option<Self> {
        Some(match event {
            EventType::ProcessStarted => Self::ProcessStarted,
            EventType::TaskStarted => Self::TaskStarted,
            EventType::SignerSigned => Self::SignerSigned,
            EventType::ApproverApproved => Self::ApproverApproved,
            EventType::SignerDeclined => Self::SignerDeclined,
            EventType::ApproverDeclined => Self::ApproverDeclined,
            EventType::ProcessCompleted => Self::ProcessCompleted,
            EventType::ProcessCanceled => Self::ProcessCanceled,
            EventType::ProcessUpdated => Self::ProcessUpdated,
            EventType::ProcessDeleted => Self::ProcessDeleted,
            _ => return None,
        })
    }
}

wire_enum!(
    /// Where an outbox row is in its delivery (PRODUCT.md section 14).
    OutboxState as "state" {
        /// Waiting for its next attempt (or being sent right now).
        Pending = "PENDING",
        /// Delivered (or nothing to deliver: the matrix has no email for it).
        Sent = "SENT",
        /// Given up: `MAIL_GIVE_UP_AFTER` passed, or the server refused it for good.
        Failed = "FAILED",
    }
);

wire_enum!(
    /// What an outbox row delivers: a notification of the matrix about a process, or the
    /// audit checkpoint emailed to `AUDIT_CHECKPOINT_EMAIL` (PRODUCT.md section 11).
    OutboxKind as "kind" {
        /// An email of the notification matrix about a signing process.
        Notification = "NOTIFICATION",
        /// The audit checkpoint `{createdAt, chainCount, root}` of the
        /// `AUDIT_CHECKPOINT_CRON` job; no process, no matrix.
        AuditCheckpoint = "AUDIT_CHECKPOINT",
        /// A webhook delivery of one event to one subscription (PRODUCT.md section 12).
        WebhookEvent = "WEBHOOK_EVENT",
    }
);
