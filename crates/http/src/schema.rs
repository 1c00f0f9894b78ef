//! Schema-only mirrors of the JSON the API reads and writes, named and spelled as in the seed
//! document (`SigningProcess`, `ProcessStepSigner`, …). The domain types serialise by hand,
//! so these exist for the OpenAPI document only; a test serialises real domain values and
//! checks that their keys are exactly these properties, so the two cannot drift.
// Enum variants are the wire values themselves.
#![allow(non_camel_case_types, clippy::upper_case_acronyms, missing_docs)]

use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Current process status.
#[derive(ToSchema)]
#[schema(example = "STARTED")]
pub enum ProcessStatus {
    PENDING,
    STARTED,
    COMPLETED,
    CANCELED,
    DECLINED,
}

/// Current step status.
#[derive(ToSchema)]
pub enum StepStatus {
    WAITING_FOR_PREVIOUS,
    STARTED,
    CANCELED,
    COMPLETED,
}

/// What a person does in a step.
#[derive(ToSchema)]
pub enum SignerRole {
    VIEWER,
    SIGNER,
    APPROVER,
    INITIATOR,
    ADMINISTRATOR,
}

/// Where one signer entry stands.
#[derive(ToSchema)]
pub enum SigningStatus {
    WAITING_FOR_PROCESS,
    WAITING_FOR_PREVIOUS,
    WAITING_FOR_ACTION,
    SIGNED,
    APPROVED,
    VIEWED,
    DECLINED,
    CANCELED,
    NOT_REQUIRED,
}

/// Visibility scope (`ALL` only as a list filter).
#[derive(ToSchema)]
pub enum Scope {
    PERSONAL,
    GROUP,
    GLOBAL,
    ALL,
}

/// Type of event being audited.
#[derive(ToSchema)]
pub enum EventType {
    PROCESS_STARTED,
    PROCESS_CANCELED,
    PROCESS_COMPLETED,
    PROCESS_UPDATED,
    PROCESS_DELETED,
    PROCESS_OPENED,
    PROCESS_GETALL,
    PROCESS_GETONE,
    DOCUMENT_CREATE,
    DOCUMENT_INFO,
    DOCUMENT_DOWNLOAD,
    DOCUMENT_DELETE,
    DOCUMENT_CREATE_OR_UPDATE,
    DOCUMENT_ADDVERSION,
    DOCUMENT_UPDATE,
    SIGNATURE,
    DECLINE,
    APPROVE,
    TASK_STARTED,
    SIGNER_DECLINED,
    APPROVER_DECLINED,
    SIGNER_SIGNED,
    APPROVER_APPROVED,
    REMINDER,
    FAILURE,
    AUDIT_LOGIN_START,
    AUDIT_LOGIN_COMPLETED,
    AUDIT_LOGIN_FAULT,
    AUDIT_EMAIL_REMINDER,
    AUTH_COMPLETED,
    AUTH_START,
}

/// One person in a role in a step.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ProcessStepSigner {
    /// Resource identificator (server-made; send it back to edit the entry).
    pub id: Option<Uuid>,
    /// Signer display name.
    pub signer_name: Option<String>,
    /// Country code of personal code (for example LV, LT, EE).
    pub signer_country: Option<String>,
    /// Personal code; empty makes the entry anonymous.
    #[schema(example = "010190-12345")]
    pub signer_personal_code: Option<String>,
    /// Signer email.
    pub signer_email: Option<String>,
    /// Role of the signer.
    pub signer_role: SignerRole,
    /// The signer's own comment (the decline reason).
    pub signer_comment: Option<String>,
    /// A note from the initiator to the signer.
    pub comment_for_signer: Option<String>,
    /// Signing status (read-only, except in updateProcessStep where a change is an action).
    pub signing_status: Option<SigningStatus>,
    /// Whether the entry gets emails (default true).
    pub signer_notification: Option<bool>,
    /// Language of the entry's emails.
    pub signer_language: Option<String>,
    /// True exactly when the personal code is empty (derived).
    #[schema(read_only)]
    pub anonymous: Option<bool>,
}

/// One recipient group of a process.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SigningProcessStep {
    /// Resource identificator (server-made; send it back to edit the step).
    pub id: Option<Uuid>,
    /// Execution order of the step in workflow.
    pub process_order: i32,
    /// Current step status (read-only).
    #[schema(read_only)]
    pub step_status: Option<StepStatus>,
    /// Due date/time for this step.
    pub due_date: Option<OffsetDateTime>,
    /// Signers assigned to this step.
    pub process_step_signers: Vec<ProcessStepSigner>,
}

/// A signing process.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SigningProcess {
    /// Resource identificator (a client UUID not yet used is accepted on create).
    pub id: Option<Uuid>,
    /// Process creation timestamp.
    #[schema(read_only)]
    pub created_at: Option<OffsetDateTime>,
    /// Ordered steps in this signing workflow.
    pub signing_process_steps: Vec<SigningProcessStep>,
    /// Email of the process initiator.
    pub process_initiator_email: Option<String>,
    /// Document identificator.
    pub document_id: String,
    /// Display name of the related document.
    pub document_name: Option<String>,
    /// Username or code of the initiator.
    pub initiator: Option<String>,
    /// General process comment.
    pub comment: Option<String>,
    /// Indicates whether process was canceled.
    #[schema(read_only)]
    pub canceled: Option<bool>,
    /// Current process status (PENDING or STARTED on create; a change on update starts or cancels).
    pub status: Option<ProcessStatus>,
    /// Type/classification of the document.
    pub document_type: Option<String>,
    /// Owner group for this process.
    pub owner_group: Option<String>,
    /// Completion timestamp when finished.
    #[schema(read_only)]
    pub completed_at: Option<OffsetDateTime>,
    /// Full display name of the initiator.
    pub initiator_name: Option<String>,
    /// Total number of signers in the process.
    #[schema(read_only)]
    pub total_signers: Option<i32>,
    /// Number of signers who already signed/approved.
    #[schema(read_only)]
    pub total_signed: Option<i32>,
    /// Flat signer list of the process.
    #[schema(read_only)]
    pub signers: Option<Vec<ProcessStepSigner>>,
    /// The STARTED step, if any.
    #[schema(read_only)]
    pub current_in_progress_step: Option<SigningProcessStep>,
}

/// A document attribute.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DocumentAttribute {
    /// Resource identificator.
    pub id: Option<Uuid>,
    /// Attribute creation timestamp.
    #[schema(read_only)]
    pub created_at: Option<OffsetDateTime>,
    /// Attribute data type.
    #[schema(rename = "type")]
    pub attr_type: Option<String>,
    /// Attribute name.
    pub name: String,
    /// Indicates whether attribute is required.
    pub required: Option<bool>,
}

/// A document profile.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DocumentProfile {
    /// Resource identificator.
    #[schema(read_only)]
    pub id: Option<Uuid>,
    /// Profile creation timestamp.
    #[schema(read_only)]
    pub created_at: Option<OffsetDateTime>,
    /// Document profile name.
    pub name: String,
    /// Document type for this profile.
    pub document_type: Option<String>,
    /// Owner group for this profile.
    pub owner_group: Option<String>,
    /// Required/optional document attributes (referenced by id when written).
    pub attributes: Vec<DocumentAttribute>,
    /// Seal profile code.
    pub seal: Option<String>,
    /// Indicates whether a seal is required.
    pub is_seal_required: Option<bool>,
    /// Display order of the profile.
    #[schema(rename = "profileorder")]
    pub profileorder: Option<i32>,
}

/// A contact.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Contact {
    /// Resource identificator (required on update).
    pub id: Option<Uuid>,
    /// Contact creation timestamp.
    #[schema(read_only)]
    pub created_at: Option<OffsetDateTime>,
    /// Contact full name.
    pub name: Option<String>,
    /// Country code of personal code.
    pub country: Option<String>,
    /// Personal code of the contact.
    pub personal_code: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Role assigned to the contact.
    pub role: Option<SignerRole>,
    /// Default anonymous signing mode.
    pub default_anonymous: Option<bool>,
    /// Owner code.
    pub owner: String,
    /// Contact visibility scope (a row is PERSONAL, GROUP or GLOBAL).
    pub scope: Option<Scope>,
    /// Owner group code.
    pub group: Option<String>,
    /// Preferred language code.
    pub language: Option<String>,
}

/// A process template.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Template {
    /// Resource identificator.
    pub id: Option<Uuid>,
    /// Template creation timestamp.
    #[schema(read_only)]
    pub created_at: Option<OffsetDateTime>,
    /// Template name.
    pub name: String,
    /// Template content payload.
    pub data: Option<String>,
    /// Template owner code.
    pub owner: String,
    /// Template visibility scope (a row is PERSONAL, GROUP or GLOBAL).
    pub scope: Option<Scope>,
    /// Template owner group.
    pub group: Option<String>,
}

/// An audit event.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AuditingEvent {
    /// Resource identificator.
    pub id: Option<Uuid>,
    /// Audit event creation timestamp (always the service's time).
    #[schema(read_only)]
    pub created_at: Option<OffsetDateTime>,
    /// Type of event being audited.
    pub event_type: EventType,
    /// Source/origin of the event.
    pub event_origin: Option<String>,
    /// User who initiated the event (default: the caller).
    pub creator: Option<String>,
    /// Document identificator.
    pub document_id: Option<String>,
    /// Signer identificator.
    pub signer_id: Option<Uuid>,
    /// Customer personal code.
    pub customer_personal_code: Option<String>,
    /// Additional audit note.
    pub note: Option<String>,
    /// Signing process identificator.
    pub process_id: Option<Uuid>,
    /// Request IP address (default: the caller's).
    pub ip_address: Option<String>,
    /// Container identificator.
    pub container_id: Option<String>,
    /// Method or operation name.
    pub method: Option<String>,
    /// Client application name (default: X-Client-App or User-Agent).
    pub client_app_name: Option<String>,
    /// Position in its process's hash chain, from 0.
    #[schema(read_only)]
    pub sequence: Option<i64>,
    /// Hash of the previous event of the chain.
    #[schema(read_only)]
    pub previous_hash: Option<String>,
    /// SHA-256 (hex) of the previous hash and this event's canonical form.
    #[schema(read_only)]
    pub hash: Option<String>,
}

/// One entry of a person, with its process and step.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignerTask {
    /// The entry.
    pub signer_id: Uuid,
    /// Its process.
    pub process_id: Uuid,
    /// Its step.
    pub step_id: Uuid,
    /// Document identificator.
    pub document_id: String,
    /// Document name.
    pub document_name: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// Initiator's display name.
    pub initiator_name: Option<String>,
    /// Process status.
    pub process_status: ProcessStatus,
    /// Step status.
    pub step_status: StepStatus,
    /// Entry status.
    pub signing_status: SigningStatus,
    /// Entry role.
    pub signer_role: SignerRole,
    /// Step due date.
    pub due_date: Option<OffsetDateTime>,
    /// Process creation time.
    pub created_at: OffsetDateTime,
    /// The step's due date has passed.
    pub expired: bool,
}

/// One document a person takes part in.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignerDocument {
    /// Document identificator.
    pub document_id: String,
    /// Document name.
    pub document_name: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// The process.
    pub process_id: Uuid,
    /// Its status.
    pub process_status: ProcessStatus,
    /// Process creation time.
    pub created_at: OffsetDateTime,
    /// Completion time.
    pub completed_at: Option<OffsetDateTime>,
}

/// A step where a person has an entry, with its process id.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignerStep {
    /// The process.
    pub process_id: Uuid,
    /// The step.
    pub id: Uuid,
    /// Execution order of the step in workflow.
    pub process_order: i32,
    /// Current step status.
    pub step_status: StepStatus,
    /// Due date/time for this step.
    pub due_date: Option<OffsetDateTime>,
    /// Signers assigned to this step.
    pub process_step_signers: Vec<ProcessStepSigner>,
}

/// The audit trail of a process and the verdict of its hash chain.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AuditTrail {
    /// The process.
    pub process_id: Uuid,
    /// The chain holds.
    pub valid: bool,
    /// Position of the first event whose hash does not hold; null when valid.
    pub broken_at: Option<i64>,
    /// Events, oldest first.
    pub events: Vec<AuditingEvent>,
}

/// `findProcesses` request: at least one of the two.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ProcessSearchRequest {
    /// Document identificator.
    pub document_id: Option<String>,
    /// Personal code used in find query.
    pub personal_code: Option<String>,
}

/// The portal acting for an entry: the person's identity (both or neither) and a comment
/// (the decline reason). An anonymous entry needs no identity.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignerActionRequest {
    /// Personal code of the person acting.
    pub personal_code: Option<String>,
    /// Country code of the personal code.
    pub country: Option<String>,
    /// Comment; the decline reason for decline.
    pub comment: Option<String>,
}

/// How many reminders `sendReminders` recorded.
#[derive(ToSchema)]
pub struct RemindersSent {
    /// Reminders newly queued (a second run on the same day queues none).
    pub sent: i64,
}

/// One email `sendTestEmail` sent.
#[derive(ToSchema)]
pub struct TestEmailSent {
    /// The address.
    pub to: String,
    /// The rendered subject.
    pub subject: String,
}

/// The email `sendSignerEmail` queued.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SignerEmailSent {
    /// The address.
    pub to: String,
    /// The subject rendered from the notification matrix.
    pub subject: Option<String>,
    /// The notification sent again: TASK_STARTED.
    pub event_type: EventType,
}

/// `GET /health` and `GET /ready`.
#[derive(ToSchema)]
pub struct HealthStatus {
    /// `UP` or `DOWN`.
    #[schema(example = "UP")]
    pub status: String,
}

/// Pagination and sorting parameters.
#[derive(ToSchema)]
pub struct Pageable {
    /// Page number (starts from 0).
    #[schema(minimum = 0, example = 0)]
    pub page: Option<i32>,
    /// Page size (default 20, at most 200).
    #[schema(minimum = 1, maximum = 200, example = 20)]
    pub size: Option<i32>,
    /// Sort expressions `field,asc|desc`, most significant first (default createdAt,desc).
    #[schema(example = json!(["createdAt,desc"]))]
    pub sort: Option<Vec<String>>,
}

macro_rules! page_schema {
    ($($name:ident of $item:ident;)+) => {$(
        #[doc = concat!("One page of ", stringify!($item), " rows.")]
        #[derive(ToSchema)]
        #[schema(rename_all = "camelCase")]
        pub struct $name {
            /// The rows.
            pub content: Vec<$item>,
            /// Rows in all pages.
            pub total_elements: i64,
            /// Number of pages.
            pub total_pages: i64,
            /// This page's number, from 0.
            pub number: i32,
            /// Requested size.
            pub size: i32,
            /// Rows on this page.
            pub number_of_elements: i32,
            /// Is this the first page.
            pub first: bool,
            /// Is this the last page.
            pub last: bool,
            /// Is this page empty.
            pub empty: bool,
        }
    )+};
}

page_schema! {
    PageSigningProcess of SigningProcess;
    PageSignerTask of SignerTask;
    PageContact of Contact;
    PageTemplate of Template;
    PageAuditingEvent of AuditingEvent;
}

#[cfg(test)]
mod tests {
    //! The mirrors against real domain values: a key the domain writes and the schema lacks
    //! (or the other way round) fails here.
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use pas_domain::audit::{AuditTrail as DomainTrail, Caller, NewAuditEvent, chain};
    use pas_domain::catalog::{AttributeInput, ProfileInput};
    use pas_domain::contact::ContactInput;
    use pas_domain::ids::{AttributeId, AuditEventId, ContactId, ProfileId, TemplateId};
    use pas_domain::input::ProcessInput;
    use pas_domain::paging::{Page, PageRequest, ProcessSort};
    use pas_domain::ports::SequentialIds;
    use pas_domain::process::SigningProcess as Process;
    use pas_domain::status as domain;
    use pas_domain::task::{
        SignerDocument as DomainDocument, SignerStep as DomainStep, SignerTask as DomainTask,
    };
    use pas_domain::template::TemplateInput;
    use serde::Serialize;
    use serde_json::{Value, json};
    use time::macros::datetime;
    use utoipa::PartialSchema;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-03-02 8:00 UTC);

    fn properties<T: PartialSchema>() -> BTreeSet<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no properties in {schema}"))
            .keys()
            .cloned()
            .collect()
    }

    fn keys(value: &impl Serialize) -> BTreeSet<String> {
        serde_json::to_value(value)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    fn enum_values<T: PartialSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("no enum in {schema}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    fn wire<T: Copy + std::fmt::Display>(all: &[T]) -> Vec<String> {
        all.iter().map(ToString::to_string).collect()
    }

    /// A started process: two steps, the first running, every optional field set.
    fn process() -> Process {
        let input: ProcessInput = serde_json::from_value(json!({
            "documentId": "lease-2026-17", "documentName": "Lease", "documentType": "CONTRACT",
            "ownerGroup": "sales", "initiator": "anna", "initiatorName": "Anna", "comment": "c",
            "processInitiatorEmail": "office@example.lv",
            "signingProcessSteps": [
                {"processOrder": 1, "dueDate": "2026-03-10T12:00:00Z", "processStepSigners": [
                    {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerCountry": "LV",
                     "signerPersonalCode": "161175-19997", "signerName": "Client",
                     "signerLanguage": "lv", "commentForSigner": "please"}
                ]},
                {"processOrder": 2, "processStepSigners": [{"signerRole": "VIEWER", "signerNotification": false}]}
            ]
        }))
        .unwrap();
        let (mut p, _) =
            Process::create(input.validate().unwrap(), &SequentialIds::default(), NOW).unwrap();
        let _ = p.start(NOW).unwrap();
        p
    }

    fn event() -> NewAuditEvent {
        let p = process();
        let e = pas_domain::events::DomainEvent {
            event_type: domain::EventType::ProcessStarted,
            process_id: p.id,
            step_id: None,
            signer_id: None,
            occurred_at: NOW,
            note: None,
        };
        NewAuditEvent::from_domain(
            AuditEventId::from_uuid(uuid::Uuid::now_v7()),
            &e,
            &p,
            &Caller::system("test"),
            "startProcess",
        )
    }

    #[test]
    fn process_step_and_signer_keys_equal_their_schemas() {
        let p = process();
        assert_eq!(keys(&p), properties::<SigningProcess>());
        assert_eq!(keys(&p.steps[0]), properties::<SigningProcessStep>());
        assert_eq!(
            keys(&p.steps[0].entries[0]),
            properties::<ProcessStepSigner>()
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            keys(&json["currentInProgressStep"]),
            properties::<SigningProcessStep>()
        );
        assert_eq!(keys(&json["signers"][0]), properties::<ProcessStepSigner>());
    }

    #[test]
    fn catalog_contact_and_template_keys_equal_their_schemas() {
        let attribute = AttributeInput {
            name: Some("amount".into()),
            attr_type: Some("number".into()),
            ..Default::default()
        }
        .validate(AttributeId::from_uuid(uuid::Uuid::now_v7()), NOW)
        .unwrap();
        assert_eq!(keys(&attribute), properties::<DocumentAttribute>());

        let mut profile = ProfileInput {
            name: Some("Default".into()),
            ..Default::default()
        }
        .validate(ProfileId::from_uuid(uuid::Uuid::now_v7()), NOW)
        .unwrap()
        .profile;
        profile.attributes.push(attribute);
        assert_eq!(keys(&profile), properties::<DocumentProfile>());

        let contact = ContactInput {
            owner: Some("anna".into()),
            ..Default::default()
        }
        .validate(ContactId::from_uuid(uuid::Uuid::now_v7()), NOW)
        .unwrap();
        assert_eq!(keys(&contact), properties::<Contact>());

        let template = TemplateInput {
            name: Some("NDA".into()),
            owner: Some("anna".into()),
            ..Default::default()
        }
        .validate(TemplateId::from_uuid(uuid::Uuid::now_v7()), NOW)
        .unwrap();
        assert_eq!(keys(&template), properties::<Template>());
    }

    #[test]
    fn audit_keys_equal_their_schemas() {
        let stored = chain(None, event());
        assert_eq!(keys(&stored), properties::<AuditingEvent>());
        let trail = DomainTrail::verify(stored.event.process_id.unwrap(), vec![stored]);
        assert_eq!(keys(&trail), properties::<AuditTrail>());
    }

    #[test]
    fn portal_row_keys_equal_their_schemas() {
        let p = process();
        let step = &p.steps[0];
        let task = DomainTask::of(&p, step, &step.entries[0], NOW);
        assert_eq!(keys(&task), properties::<SignerTask>());
        assert_eq!(
            keys(&DomainDocument::from(&*p)),
            properties::<SignerDocument>()
        );
        let row = DomainStep {
            process_id: p.id,
            step: step.clone(),
            own: vec![step.entries[0].id],
        };
        assert_eq!(keys(&row), properties::<SignerStep>());
    }

    #[test]
    fn page_keys_equal_the_page_schemas() {
        let page = Page::new(vec![process()], 1, &PageRequest::<ProcessSort>::default());
        for props in [
            properties::<PageSigningProcess>(),
            properties::<PageSignerTask>(),
            properties::<PageContact>(),
            properties::<PageTemplate>(),
            properties::<PageAuditingEvent>(),
        ] {
            assert_eq!(keys(&page), props);
        }
        let json = serde_json::to_value(&page).unwrap();
        assert_eq!(keys(&json["content"][0]), properties::<SigningProcess>());
    }

    #[test]
    fn enum_schemas_list_exactly_the_domain_spellings() {
        assert_eq!(
            enum_values::<ProcessStatus>(),
            wire(domain::ProcessStatus::ALL)
        );
        assert_eq!(enum_values::<StepStatus>(), wire(domain::StepStatus::ALL));
        assert_eq!(enum_values::<SignerRole>(), wire(domain::SignerRole::ALL));
        assert_eq!(
            enum_values::<SigningStatus>(),
            wire(domain::SigningStatus::ALL)
        );
        assert_eq!(enum_values::<Scope>(), wire(domain::ScopeFilter::ALL));
        assert_eq!(enum_values::<EventType>(), wire(domain::EventType::ALL));
    }

    #[test]
    fn a_value_written_by_the_domain_is_one_of_the_schema_values() {
        let json: Value = serde_json::to_value(process()).unwrap();
        assert!(
            enum_values::<ProcessStatus>().contains(&json["status"].as_str().unwrap().to_owned())
        );
        assert!(
            enum_values::<SigningStatus>().contains(
                &json["signers"][0]["signingStatus"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            )
        );
    }
}
