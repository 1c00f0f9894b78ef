//! Who may do what (PRODUCT.md section 10): the [`Principal`] a request acts as, its
//! [`Role`]s, every [`Operation`] of the API and the one table that says which roles may
//! call it ([`Operation::roles`]).
//!
//! Authentication (how a token becomes a principal) belongs to the adapters; every decision
//! about what a principal may do lives here, so that an embedder of this crate gets the same
//! rules offline. The use cases of [`crate::service`] check in the order the contract fixes:
//! the role first ([`Principal::require`], 403), then the object (a process outside the
//! principal's reach is 404, as if it did not exist), then the body.
//!
//! ```
//! use pas_domain::auth::{Operation, Principal, Role, Roles};
//!
//! let clerk = Principal::new("anna", Roles::of(&[Role::User])).with_groups(["sales"]);
//! assert!(clerk.require(Operation::CreateProcess).is_ok());
//! assert!(clerk.require(Operation::CreateDocumentProfile).is_err());
//! assert!(clerk.reaches_group(Some("sales")));
//! assert!(!clerk.reaches_group(Some("legal")));
//!
//! // An administrator never acts for a signer.
//! let admin = Principal::new("root", Roles::of(&[Role::Admin]));
//! assert!(admin.require(Operation::SignProcessStep).is_err());
//! ```

use std::fmt;

use crate::query::PersonKey;
use crate::status::EventType;

/// A role of section 10, by its exact name in tokens and the tokens file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// `pas-admin`: everything except acting for a signer.
    Admin,
    /// `pas-user`: processes, contacts and templates of the principal's groups.
    User,
    /// `pas-auditor`: reads every process and the audit log; writes nothing.
    Auditor,
    /// `pas-audit-writer`: adds other systems' events to the audit log.
    AuditWriter,
    /// `pas-portal`: a portal backend acting for the people it authenticated.
    Portal,
    /// `pas-signer`: a person using the portal operations for themselves.
    Signer,
}

impl Role {
    /// Every role, in the order of the contract's table.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::User,
        Role::Auditor,
        Role::AuditWriter,
        Role::Portal,
        Role::Signer,
    ];

    /// The role's name in tokens.
    ///
    /// ```
    /// use pas_domain::auth::Role;
    /// assert_eq!(Role::AuditWriter.name(), "pas-audit-writer");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Role::Admin => "pas-admin",
            Role::User => "pas-user",
            Role::Auditor => "pas-auditor",
            Role::AuditWriter => "pas-audit-writer",
            Role::Portal => "pas-portal",
            Role::Signer => "pas-signer",
        }
    }

    /// The role of a name, exactly as spelt in the contract; other names (a provider's own
    /// roles) are `None` and ignored.
    ///
    /// ```
    /// use pas_domain::auth::Role;
    /// assert_eq!(Role::parse("pas-user"), Some(Role::User));
    /// assert_eq!(Role::parse("offline_access"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of roles.
///
/// ```
/// use pas_domain::auth::{Role, Roles};
/// let roles = Roles::parse_names(["pas-user", "uma_authorization", "pas-auditor"]);
/// assert!(roles.contains(Role::User) && roles.contains(Role::Auditor));
/// assert!(!roles.contains(Role::Admin));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    /// No role.
    pub const NONE: Roles = Roles(0);

    /// The set of `roles`.
    pub const fn of(roles: &[Role]) -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < roles.len() {
            bits |= roles[i].bit();
            i += 1;
        }
        Self(bits)
    }

    /// The known roles among `names`; unknown names are ignored.
    pub fn parse_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        names
            .into_iter()
            .filter_map(|n| Role::parse(n.as_ref()))
            .fold(Self::NONE, |set, r| set.with(r))
    }

    /// This set and `role`.
    #[must_use]
    pub const fn with(self, role: Role) -> Self {
        Self(self.0 | role.bit())
    }

    /// Whether `role` is in the set.
    pub const fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// Whether the sets share a role.
    pub const fn intersects(self, other: Roles) -> bool {
        self.0 & other.0 != 0
    }

    /// The roles, in [`Role::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Role::name)).finish()
    }
}

/// Who a request acts as: built by an authentication adapter from a verified token (or, in
/// development mode, from headers), and taken by every use case.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    /// The acting user (`preferred_username`, else `sub`; a static token's name). Recorded as
    /// `creator` on audit rows.
    pub subject: String,
    /// Groups; a `pas-user` reaches processes whose `ownerGroup` is one of them.
    pub groups: Vec<String>,
    /// Roles of section 10.
    pub roles: Roles,
    /// The client application (`azp`, else `client_id`; a static token's name). Recorded as
    /// `clientAppName`.
    pub client: Option<String>,
    /// The person a `pas-signer` is (from its eID's serial number).
    pub person: Option<PersonKey>,
}

impl fmt::Debug for Principal {
    // The person's code stays out of logs (PersonKey's Debug masks it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("subject", &self.subject)
            .field("groups", &self.groups)
            .field("roles", &self.roles)
            .field("client", &self.client)
            .field("person", &self.person)
            .finish()
    }
}

/// The principal may not call the operation, or not on that object (403). Says nothing
/// more on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("access denied")]
pub struct Denied;

impl Principal {
    /// A principal with roles and nothing else.
    pub fn new(subject: impl Into<String>, roles: Roles) -> Self {
        Self {
            subject: subject.into(),
            groups: Vec::new(),
            roles,
            client: None,
            person: None,
        }
    }

    /// The same principal in `groups`.
    #[must_use]
    pub fn with_groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// The same principal as the client application `client`.
    #[must_use]
    pub fn with_client(mut self, client: Option<String>) -> Self {
        self.client = client;
        self
    }

    /// The same principal as the person `person`.
    #[must_use]
    pub fn with_person(mut self, person: Option<PersonKey>) -> Self {
        self.person = person;
        self
    }

    /// The caller of `AUTH_MODE=off`: `pas-admin`, `pas-portal` and `pas-audit-writer` at
    /// once, so that the whole API works without credentials on a developer's machine.
    pub fn development(subject: impl Into<String>, client: Option<String>) -> Self {
        Self::new(
            subject,
            Roles::of(&[Role::Admin, Role::Portal, Role::AuditWriter]),
        )
        .with_client(client)
    }

    /// The service itself (scheduled jobs): an administrator named `name`.
    pub fn system(name: &str) -> Self {
        Self::new(name, Roles::of(&[Role::Admin])).with_client(Some(name.to_owned()))
    }

    /// Whether the principal holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// The role check: 403 unless one of the principal's roles may call `op`.
    ///
    /// ```
    /// use pas_domain::auth::{Operation, Principal, Role, Roles};
    /// let auditor = Principal::new("eve", Roles::of(&[Role::Auditor]));
    /// assert!(auditor.require(Operation::GetProcessAuditTrail).is_ok());
    /// assert!(auditor.require(Operation::CancelProcess).is_err());
    /// ```
    pub fn require(&self, op: Operation) -> Result<(), Denied> {
        if self.roles.intersects(op.roles()) {
            Ok(())
        } else {
            Err(Denied)
        }
    }

    /// Whether `group` is one of the principal's groups.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// Reads every process and audit row, whatever its group (`pas-admin`, `pas-auditor`).
    pub fn sees_everything(&self) -> bool {
        self.has(Role::Admin) || self.has(Role::Auditor)
    }

    /// Whether a process owned by `owner_group` is within reach: everything for those who
    /// see everything, else the principal's groups. Out of reach is 404, not 403.
    pub fn reaches_group(&self, owner_group: Option<&str>) -> bool {
        self.sees_everything() || owner_group.is_some_and(|g| self.in_group(g))
    }

    /// The groups a list is confined to: `None` for those who see everything, else the
    /// principal's own.
    pub fn confined_to(&self) -> Option<&[String]> {
        (!self.sees_everything()).then_some(self.groups.as_slice())
    }

    /// The owner group of a new process: the one named, if the principal may give it, or
    /// the principal's only group when none is named.
    ///
    /// ```
    /// use pas_domain::auth::{Principal, Role, Roles};
    /// let anna = Principal::new("anna", Roles::of(&[Role::User])).with_groups(["sales"]);
    /// assert_eq!(anna.owner_group_for(None), Ok(Some("sales".to_owned())));
    /// assert!(anna.owner_group_for(Some("legal")).is_err());
    /// ```
    pub fn owner_group_for(&self, named: Option<&str>) -> Result<Option<String>, Denied> {
        match named {
            Some(g) if self.has(Role::Admin) || self.in_group(g) => Ok(Some(g.to_owned())),
            Some(_) => Err(Denied),
            None if self.has(Role::Admin) => Ok(None),
            None => match self.groups.as_slice() {
                [only] => Ok(Some(only.clone())),
                _ => Ok(None),
            },
        }
    }

    /// Whether the principal may use a portal operation for `person`: a portal backend and
    /// an administrator (reads only: entry actions exclude administrators by their role)
    /// for anyone, a signer for itself.
    pub fn speaks_for(&self, person: &PersonKey) -> bool {
        self.has(Role::Portal)
            || self.has(Role::Admin)
            || (self.has(Role::Signer) && self.person.as_ref() == Some(person))
    }

    /// The person an entry action is taken as: the one the request names, which a
    /// `pas-signer` may only name as itself (403); a signer naming none acts as itself.
    pub fn acting_person(&self, named: Option<PersonKey>) -> Result<Option<PersonKey>, Denied> {
        if self.has(Role::Portal) {
            return Ok(named);
        }
        match named {
            None => Ok(self.person.clone()),
            Some(p) if self.person.as_ref() == Some(&p) => Ok(Some(p)),
            Some(_) => Err(Denied),
        }
    }

    /// `owner`/`user` parameters of the contacts and templates operations: anyone for an
    /// administrator, the principal's own subject for others.
    pub fn may_name_user(&self, user: &str) -> bool {
        self.has(Role::Admin) || user == self.subject
    }

    /// `group` parameters: any for an administrator, one of the principal's groups for
    /// others.
    pub fn may_name_group(&self, group: &str) -> bool {
        self.has(Role::Admin) || self.in_group(group)
    }

    /// Only administrators write GLOBAL contacts and templates, and correct a
    /// `signingStatus` through `updateProcessStep`.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }
}

/// Event types a client may post to `createAuditingEvent`: the portal's and the document
/// store's own steps. Everything else is the service's own record (422, whoever posts it).
///
/// ```
/// use pas_domain::auth::client_may_record;
/// use pas_domain::status::EventType;
/// assert!(client_may_record(EventType::AuditLoginFault));
/// assert!(!client_may_record(EventType::SignerSigned));
/// ```
pub fn client_may_record(event: EventType) -> bool {
    event.as_str().starts_with("DOCUMENT_")
        || matches!(
            event,
            EventType::AuthStart
                | EventType::AuditLoginStart
                | EventType::AuditLoginCompleted
                | EventType::AuditLoginFault
        )
}

macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident = $id:literal: [$($role:ident),*];)*) => {
        /// Every operation of the API (PRODUCT.md section 4), by its `operationId`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation {
            $($(#[$doc])* $name,)*
        }

        impl Operation {
            /// Every operation, in the order of the contract's table.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            /// The `operationId`.
            pub const fn id(self) -> &'static str {
                match self { $(Operation::$name => $id,)* }
            }

            /// The roles that may call it (the contract's role table; the object and the
            /// body are checked after this).
            pub const fn roles(self) -> Roles {
                match self { $(Operation::$name => Roles::of(&[$(Role::$role),*]),)* }
            }
        }
    };
}

operations! {
    /// `POST /processes`.
    CreateProcess = "createProcess": [Admin, User];
    /// `GET /processes/{id}`.
    GetProcessById = "getProcessById": [Admin, User, Auditor];
    /// `PUT /processes/{id}`.
    UpdateProcess = "updateProcess": [Admin, User];
    /// `DELETE /processes/{id}`.
    DeleteProcess = "deleteProcess": [Admin, User];
    /// `GET /processes`.
    ListProcesses = "listProcesses": [Admin, User, Auditor];
    /// `POST /processes/search`.
    FindProcesses = "findProcesses": [Admin, User, Auditor];
    /// `POST /processes/{id}/cancel`.
    CancelProcess = "cancelProcess": [Admin, User];
    /// `POST /processes/{id}/cancel/{disableMessages}`.
    CancelProcessWithMessageControl = "cancelProcessWithMessageControl": [Admin, User];
    /// `POST /processes/{id}/start`.
    StartProcess = "startProcess": [Admin, User];
    /// `GET /processes/by-step-signer/{id}`.
    ListProcessesByStepSignerId = "listProcessesByStepSignerId": [Admin, User, Auditor];
    /// `GET /processes/by-document/{documentId}`.
    ListProcessesByDocumentId = "listProcessesByDocumentId": [Admin, User, Auditor];
    /// `GET /processes/authorize/{signerId}/{personCode}/{country}`.
    AuthorizeProcessAccess = "authorizeProcessAccess": [Admin, Portal, Signer];
    /// `PUT /process-steps/{id}` (a `signingStatus` change: administrators only).
    UpdateProcessStep = "updateProcessStep": [Admin, User];
    /// `GET /document-profiles/{id}`.
    GetDocumentProfileById = "getDocumentProfileById": [Admin, User];
    /// `PUT /document-profiles/{id}`.
    UpdateDocumentProfile = "updateDocumentProfile": [Admin];
    /// `DELETE /document-profiles/{id}`.
    DeleteDocumentProfile = "deleteDocumentProfile": [Admin];
    /// `GET /document-profiles`.
    ListDocumentProfiles = "listDocumentProfiles": [Admin, User];
    /// `POST /document-profiles`.
    CreateDocumentProfile = "createDocumentProfile": [Admin];
    /// `GET /document-profiles/by-name`.
    GetDocumentProfileByName = "getDocumentProfileByName": [Admin, User];
    /// `GET /document-attributes/{id}`.
    GetDocumentAttributeById = "getDocumentAttributeById": [Admin, User];
    /// `PUT /document-attributes/{id}`.
    UpdateDocumentAttribute = "updateDocumentAttribute": [Admin];
    /// `DELETE /document-attributes/{id}`.
    DeleteDocumentAttribute = "deleteDocumentAttribute": [Admin];
    /// `GET /document-attributes`.
    ListDocumentAttributes = "listDocumentAttributes": [Admin, User];
    /// `POST /document-attributes`.
    CreateDocumentAttribute = "createDocumentAttribute": [Admin];
    /// `GET /contacts`.
    ListContacts = "listContacts": [Admin, User];
    /// `POST /contacts`.
    CreateContact = "createContact": [Admin, User];
    /// `PUT /contacts`.
    UpdateContact = "updateContact": [Admin, User];
    /// `DELETE /contacts/{id}`.
    DeleteContact = "deleteContact": [Admin, User];
    /// `GET /templates`.
    ListTemplates = "listTemplates": [Admin, User];
    /// `POST /templates`.
    CreateTemplate = "createTemplate": [Admin, User];
    /// `DELETE /templates/{id}`.
    DeleteTemplate = "deleteTemplate": [Admin, User];
    /// `POST /messages/reminders`.
    SendReminders = "sendReminders": [Admin];
    /// `POST /messages/test/{eventType}`.
    SendTestEmail = "sendTestEmail": [Admin];
    /// `GET /outbox`.
    ListOutbox = "listOutbox": [Admin];
    /// `POST /outbox/{id}/retry`.
    RetryOutboxMessage = "retryOutboxMessage": [Admin];
    /// `POST /webhooks` (a `pas-user` for one of its groups).
    CreateWebhook = "createWebhook": [Admin, User];
    /// `GET /webhooks` (a `pas-user` sees its groups' subscriptions).
    ListWebhooks = "listWebhooks": [Admin, User];
    /// `GET /webhooks/{id}`.
    GetWebhook = "getWebhook": [Admin, User];
    /// `PUT /webhooks/{id}`.
    UpdateWebhook = "updateWebhook": [Admin, User];
    /// `DELETE /webhooks/{id}`.
    DeleteWebhook = "deleteWebhook": [Admin, User];
    /// `POST /webhooks/{id}/rotate-secret`.
    RotateWebhookSecret = "rotateWebhookSecret": [Admin, User];
    /// `GET /webhooks/{id}/deliveries`.
    ListWebhookDeliveries = "listWebhookDeliveries": [Admin, User];
    /// `POST /webhooks/{id}/deliveries/{deliveryId}/retry`.
    RetryWebhookDelivery = "retryWebhookDelivery": [Admin, User];
    /// `POST /webhooks/{id}/ping`.
    PingWebhook = "pingWebhook": [Admin, User];
    /// `POST /audit-events`.
    CreateAuditingEvent = "createAuditingEvent": [Admin, AuditWriter];
    /// `GET /audit-events` (a `pas-user` sees its groups' processes only).
    ListAuditEvents = "listAuditEvents": [Admin, User, Auditor];
    /// `GET /processes/{id}/audit-trail`.
    GetProcessAuditTrail = "getProcessAuditTrail": [Admin, User, Auditor];
    /// `GET /audit-checkpoint`.
    GetAuditCheckpoint = "getAuditCheckpoint": [Admin, Auditor];
    /// `POST /persons/erasure`.
    ErasePerson = "erasePerson": [Admin];
    /// `GET /signer-tasks`.
    ListSignerTasks = "listSignerTasks": [Admin, Portal, Signer];
    /// `POST /process-step-signers/{id}/email`.
    SendSignerEmail = "sendSignerEmail": [Admin, User];
    /// `GET /signers/{personCode}/{country}/steps`.
    ListSignerSteps = "listSignerSteps": [Admin, Portal, Signer];
    /// `GET /signers/{personCode}/{country}/documents`.
    ListSignerDocuments = "listSignerDocuments": [Admin, Portal, Signer];
    /// `POST /process-step-signers/{id}/sign`.
    SignProcessStep = "signProcessStep": [Portal, Signer];
    /// `POST /process-step-signers/{id}/approve`.
    ApproveProcessStep = "approveProcessStep": [Portal, Signer];
    /// `POST /process-step-signers/{id}/view`.
    ViewProcessStep = "viewProcessStep": [Portal, Signer];
    /// `POST /process-step-signers/{id}/decline`.
    DeclineProcessStep = "declineProcessStep": [Portal, Signer];
}

impl Operation {
    /// The operation of an `operationId`.
    ///
    /// ```
    /// use pas_domain::auth::Operation;
    /// assert_eq!(Operation::from_id("listSignerTasks"), Some(Operation::ListSignerTasks));
    /// assert_eq!(Operation::from_id("health"), None);
    /// ```
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|op| op.id() == id)
    }

    /// The signer portal's operations: they reach a process through an entry's secret id or
    /// a person, never through its owner group.
    pub const fn is_portal(self) -> bool {
        matches!(
            self,
            Operation::AuthorizeProcessAccess
                | Operation::ListSignerTasks
                | Operation::ListSignerSteps
                | Operation::ListSignerDocuments
                | Operation::SignProcessStep
                | Operation::ApproveProcessStep
                | Operation::ViewProcessStep
                | Operation::DeclineProcessStep
        )
    }

    /// The role × operation matrix as a Markdown table (the one in docs/SECURITY.md, which a
    /// test compares with this).
    pub fn matrix_markdown() -> String {
        let mut out = String::from("| operation |");
        for role in Role::ALL {
            out.push_str(&format!(" `{}` |", role.name()));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(Role::ALL.len()));
        out.push('\n');
        for op in Self::ALL {
            out.push_str(&format!("| `{}` |", op.id()));
            for role in Role::ALL {
                out.push_str(if op.roles().contains(role) {
                    " ✓ |"
                } else {
                    " |"
                });
            }
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
