use std::sync::Arc;

use crate::audit::{AuditEventInput, AuditFilter, AuditTrail, AuditingEvent, Caller};
use crate::contact::{Contact, ContactFilter, ContactInput};
use crate::ids::{AuditEventId, ContactId, ProcessId, TemplateId};
use crate::paging::{AuditSort, ContactSort, Page, PageRequest, TemplateSort};
use crate::ports::{AuditStore, Clock, ContactStore, IdSource, TemplateStore};
use crate::status::Scope;
use crate::template::{Template, TemplateFilter, TemplateInput};
use crate::visibility::Viewer;

use super::ServiceError;

/// Contacts, templates and the audit log: the use cases with visibility rules and no state
/// machine.
#[derive(Clone)]
pub struct DirectoryService {
    contacts: Arc<dyn ContactStore>,
    templates: Arc<dyn TemplateStore>,
    audit: Arc<dyn AuditStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl DirectoryService {
    /// Wires the use cases to their ports.
    pub fn new(
        contacts: Arc<dyn ContactStore>,
        templates: Arc<dyn TemplateStore>,
        audit: Arc<dyn AuditStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self {
            contacts,
            templates,
            audit,
            clock,
            ids,
        }
    }

    /// A row the viewer cannot see does not exist for it (404); one it sees but may not
    /// change is forbidden (403).
    fn guard(
        viewer: &Viewer,
        what: &'static str,
        scope: Scope,
        owner: &str,
        group: Option<&str>,
    ) -> Result<(), ServiceError> {
        if !viewer.can_see(scope, owner, group) {
            return Err(ServiceError::NotFound(what));
        }
        if !viewer.can_change(scope, owner, group) {
            return Err(ServiceError::Forbidden);
        }
        Ok(())
    }

    /// `createContact`.
    pub async fn create_contact(&self, input: ContactInput) -> Result<Contact, ServiceError> {
        let id = ContactId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let contact = input.validate(id, self.clock.now())?;
        self.contacts.insert(&contact).await?;
        Ok(contact)
    }

    /// `updateContact`: the viewer must be allowed to change the stored row and the new one.
    pub async fn update_contact(
        &self,
        input: ContactInput,
        viewer: &Viewer,
    ) -> Result<Contact, ServiceError> {
        let id = input
            .id
            .map(ContactId::from_uuid)
            .ok_or_else(|| crate::error::ValidationErrors::single("id", "is required"))?;
        let existing = self
            .contacts
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))?;
        Self::guard(
            viewer,
            "contact",
            existing.scope,
            &existing.owner,
            existing.group.as_deref(),
        )?;
        let contact = input.validate(id, existing.created_at)?;
        // The new scope and owner must be the viewer's to give, too.
        if !viewer.can_change(contact.scope, &contact.owner, contact.group.as_deref()) {
            return Err(ServiceError::Forbidden);
        }
        self.contacts.update(&contact).await?;
        Ok(contact)
    }

    /// `deleteContact`.
    pub async fn delete_contact(&self, id: ContactId, viewer: &Viewer) -> Result<(), ServiceError> {
        let existing = self
            .contacts
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("contact"))?;
        Self::guard(
            viewer,
            "contact",
            existing.scope,
            &existing.owner,
            existing.group.as_deref(),
        )?;
        Ok(self.contacts.delete(id).await?)
    }

    /// `listContacts`.
    pub async fn list_contacts(
        &self,
        filter: &ContactFilter,
        page: &PageRequest<ContactSort>,
    ) -> Result<Page<Contact>, ServiceError> {
        Ok(self.contacts.list(filter, page).await?)
    }

    /// `createTemplate`.
    pub async fn create_template(&self, input: TemplateInput) -> Result<Template, ServiceError> {
        let id = TemplateId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let template = input.validate(id, self.clock.now())?;
        self.templates.insert(&template).await?;
        Ok(template)
    }

    /// `deleteTemplate`.
    pub async fn delete_template(
        &self,
        id: TemplateId,
        viewer: &Viewer,
    ) -> Result<(), ServiceError> {
        let existing = self
            .templates
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound("template"))?;
        Self::guard(
            viewer,
            "template",
            existing.scope,
            &existing.owner,
            existing.group.as_deref(),
        )?;
        Ok(self.templates.delete(id).await?)
    }

    /// `listTemplates`.
    pub async fn list_templates(
        &self,
        filter: &TemplateFilter,
        page: &PageRequest<TemplateSort>,
    ) -> Result<Page<Template>, ServiceError> {
        Ok(self.templates.list(filter, page).await?)
    }

    /// `createAuditingEvent`.
    pub async fn record_event(
        &self,
        input: AuditEventInput,
        caller: &Caller,
    ) -> Result<AuditingEvent, ServiceError> {
        let id = AuditEventId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let event = input.validate(id, self.clock.now(), caller)?;
        Ok(self.audit.append(&event).await?)
    }

    /// `GET /audit-events`.
    pub async fn list_events(
        &self,
        filter: &AuditFilter,
        page: &PageRequest<AuditSort>,
    ) -> Result<Page<AuditingEvent>, ServiceError> {
        Ok(self.audit.list(filter, page).await?)
    }

    /// `GET /processes/{id}/audit-trail`.
    pub async fn trail(&self, process: ProcessId) -> Result<AuditTrail, ServiceError> {
        Ok(self.audit.trail(process).await?)
    }
}
