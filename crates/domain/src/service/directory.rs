use crate::error::Missing;
use std::sync::Arc;

use crate::auth::{Denied, Operation, Principal};
use crate::contact::{Contact, ContactFilter, ContactInput};
use crate::ids::{ContactId, TemplateId};
use crate::paging::{ContactSort, Page, PageRequest, TemplateSort};
use crate::ports::{Clock, ContactStore, IdSource, TemplateStore};
use crate::status::Scope;
use crate::template::{Template, TemplateFilter, TemplateInput};
use crate::visibility::Viewer;

use super::ServiceError;

/// Contacts and templates: the use cases with visibility rules and no state machine.
#[derive(Clone)]
pub struct DirectoryService {
    contacts: Arc<dyn ContactStore>,
    templates: Arc<dyn TemplateStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl DirectoryService {
    /// Wires the use cases to their ports.
    pub fn new(
        contacts: Arc<dyn ContactStore>,
        templates: Arc<dyn TemplateStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self {
            contacts,
            templates,
            clock,
            ids,
        }
    }

    /// The `owner`/`user` and `group` parameters name the principal itself (an
    /// administrator may name anyone).
    fn check_viewer(principal: &Principal, viewer: &Viewer) -> Result<(), Denied> {
        let own = principal.may_name_user(&viewer.user)
            && viewer.groups.iter().all(|g| principal.may_name_group(g));
        if own { Ok(()) } else { Err(Denied) }
    }

    /// A row the principal may write: its own, in its groups; GLOBAL rows are written by
    /// administrators only.
    fn check_row(
        principal: &Principal,
        scope: Scope,
        owner: &str,
        group: Option<&str>,
    ) -> Result<(), Denied> {
        let allowed = principal.may_name_user(owner)
            && group.is_none_or(|g| principal.may_name_group(g))
            && (scope != Scope::Global || principal.is_admin());
        if allowed { Ok(()) } else { Err(Denied) }
    }

    /// A row the viewer cannot see does not exist for it (404); one it sees but may not
    /// change is forbidden (403).
    fn guard(
        viewer: &Viewer,
        what: Missing,
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
    pub async fn create_contact(
        &self,
        input: ContactInput,
        principal: &Principal,
    ) -> Result<Contact, ServiceError> {
        principal.require(Operation::CreateContact)?;
        let id = ContactId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let contact = input.validate(id, self.clock.now())?;
        Self::check_row(
            principal,
            contact.scope,
            &contact.owner,
            contact.group.as_deref(),
        )?;
        self.contacts.insert(&contact).await?;
        Ok(contact)
    }

    /// `updateContact`: the viewer must be allowed to change the stored row and the new one.
    pub async fn update_contact(
        &self,
        input: ContactInput,
        viewer: &Viewer,
        principal: &Principal,
    ) -> Result<Contact, ServiceError> {
        principal.require(Operation::UpdateContact)?;
        Self::check_viewer(principal, viewer)?;
        let id = input
            .id
            .map(ContactId::from_uuid)
            .ok_or_else(|| crate::error::ValidationErrors::single("id", "is required"))?;
        let existing = self
            .contacts
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Contact))?;
        Self::guard(
            viewer,
            Missing::Contact,
            existing.scope,
            &existing.owner,
            existing.group.as_deref(),
        )?;
        let contact = input.validate(id, existing.created_at)?;
        // The new scope and owner must be the viewer's to give, too.
        if !viewer.can_change(contact.scope, &contact.owner, contact.group.as_deref()) {
            return Err(ServiceError::Forbidden);
        }
        Self::check_row(
            principal,
            contact.scope,
            &contact.owner,
            contact.group.as_deref(),
        )?;
        self.contacts.update(&contact).await?;
        Ok(contact)
    }

    /// `deleteContact`.
    pub async fn delete_contact(
        &self,
        id: ContactId,
        viewer: &Viewer,
        principal: &Principal,
    ) -> Result<(), ServiceError> {
        principal.require(Operation::DeleteContact)?;
        Self::check_viewer(principal, viewer)?;
        let existing = self
            .contacts
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Contact))?;
        Self::guard(
            viewer,
            Missing::Contact,
            existing.scope,
            &existing.owner,
            existing.group.as_deref(),
        )?;
        Self::check_row(
            principal,
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
        principal: &Principal,
    ) -> Result<Page<Contact>, ServiceError> {
        principal.require(Operation::ListContacts)?;
        Self::check_viewer(principal, &filter.viewer)?;
        Ok(self.contacts.list(filter, page).await?)
    }

    /// `createTemplate`.
    pub async fn create_template(
        &self,
        input: TemplateInput,
        principal: &Principal,
    ) -> Result<Template, ServiceError> {
        principal.require(Operation::CreateTemplate)?;
        let id = TemplateId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let template = input.validate(id, self.clock.now())?;
        Self::check_row(
            principal,
            template.scope,
            &template.owner,
            template.group.as_deref(),
        )?;
        self.templates.insert(&template).await?;
        Ok(template)
    }

    /// `deleteTemplate`.
    pub async fn delete_template(
        &self,
        id: TemplateId,
        viewer: &Viewer,
        principal: &Principal,
    ) -> Result<(), ServiceError> {
        principal.require(Operation::DeleteTemplate)?;
        Self::check_viewer(principal, viewer)?;
        let existing = self
            .templates
            .get(id)
            .await?
            .ok_or(ServiceError::NotFound(Missing::Template))?;
        Self::guard(
            viewer,
            Missing::Template,
            existing.scope,
            &existing.owner,
            existing.group.as_deref(),
        )?;
        Self::check_row(
            principal,
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
        principal: &Principal,
    ) -> Result<Page<Template>, ServiceError> {
        principal.require(Operation::ListTemplates)?;
        Self::check_viewer(principal, &filter.viewer)?;
        Ok(self.templates.list(filter, page).await?)
    }
}
