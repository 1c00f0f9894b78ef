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

use super::{DirectoryError, ReadError};

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
    fn check_row(principal: &Principal, row: &impl Scoped) -> Result<(), Denied> {
        let allowed = principal.may_name_user(row.owner())
            && row.group().is_none_or(|g| principal.may_name_group(g))
            && (row.scope() != Scope::Global || principal.is_admin());
        if allowed { Ok(()) } else { Err(Denied) }
    }

    /// A stored row the viewer wants to change: one it cannot see does not exist for it
    /// (404); one it sees but may not change, or the principal may not write, is forbidden
    /// (403).
    fn may_change(
        principal: &Principal,
        viewer: &Viewer,
        row: &impl Scoped,
        what: Missing,
    ) -> Result<(), DirectoryError> {
        let (scope, owner, group) = (row.scope(), row.owner(), row.group());
        if !viewer.can_see(scope, owner, group) {
            return Err(DirectoryError::NotFound(what));
        }
        if !viewer.can_change(scope, owner, group) {
            return Err(DirectoryError::Forbidden);
        }
        Ok(Self::check_row(principal, row)?)
    }

    /// `createContact`.
    pub async fn create_contact(
        &self,
        input: ContactInput,
        principal: &Principal,
    ) -> Result<Contact, DirectoryError> {
        principal.require(Operation::CreateContact)?;
        let id = ContactId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let contact = input.validate(id, self.clock.now())?;
        Self::check_row(principal, &contact)?;
        self.contacts.insert(&contact).await?;
        Ok(contact)
    }

    /// `updateContact`: the viewer must be allowed to change the stored row and the new one.
    pub async fn update_contact(
        &self,
        input: ContactInput,
        viewer: &Viewer,
        principal: &Principal,
    ) -> Result<Contact, DirectoryError> {
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
            .ok_or(DirectoryError::NotFound(Missing::Contact))?;
        Self::may_change(principal, viewer, &existing, Missing::Contact)?;
        let contact = input.validate(id, existing.created_at)?;
        // The new scope and owner must be the viewer's to give, too.
        if !viewer.can_change(contact.scope, &contact.owner, contact.group.as_deref()) {
            return Err(DirectoryError::Forbidden);
        }
        Self::check_row(principal, &contact)?;
        self.contacts.update(&contact).await?;
        Ok(contact)
    }

    /// `deleteContact`.
    pub async fn delete_contact(
        &self,
        id: ContactId,
        viewer: &Viewer,
        principal: &Principal,
    ) -> Result<(), DirectoryError> {
        principal.require(Operation::DeleteContact)?;
        Self::check_viewer(principal, viewer)?;
        let existing = self
            .contacts
            .get(id)
            .await?
            .ok_or(DirectoryError::NotFound(Missing::Contact))?;
        Self::may_change(principal, viewer, &existing, Missing::Contact)?;
        Ok(self.contacts.delete(id).await?)
    }

    /// `listContacts`.
    pub async fn list_contacts(
        &self,
        filter: &ContactFilter,
        page: &PageRequest<ContactSort>,
        principal: &Principal,
    ) -> Result<Page<Contact>, ReadError> {
        principal.require(Operation::ListContacts)?;
        Self::check_viewer(principal, &filter.viewer)?;
        Ok(self.contacts.list(filter, page).await?)
    }

    /// `createTemplate`.
    pub async fn create_template(
        &self,
        input: TemplateInput,
        principal: &Principal,
    ) -> Result<Template, DirectoryError> {
        principal.require(Operation::CreateTemplate)?;
        let id = TemplateId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let template = input.validate(id, self.clock.now())?;
        Self::check_row(principal, &template)?;
        self.templates.insert(&template).await?;
        Ok(template)
    }

    /// `deleteTemplate`.
    pub async fn delete_template(
        &self,
        id: TemplateId,
        viewer: &Viewer,
        principal: &Principal,
    ) -> Result<(), DirectoryError> {
        principal.require(Operation::DeleteTemplate)?;
        Self::check_viewer(principal, viewer)?;
        let existing = self
            .templates
            .get(id)
            .await?
            .ok_or(DirectoryError::NotFound(Missing::Template))?;
        Self::may_change(principal, viewer, &existing, Missing::Template)?;
        Ok(self.templates.delete(id).await?)
    }

    /// `listTemplates`.
    pub async fn list_templates(
        &self,
        filter: &TemplateFilter,
        page: &PageRequest<TemplateSort>,
        principal: &Principal,
    ) -> Result<Page<Template>, ReadError> {
        principal.require(Operation::ListTemplates)?;
        Self::check_viewer(principal, &filter.viewer)?;
        Ok(self.templates.list(filter, page).await?)
    }
}

/// The visibility fields contacts and templates share.
trait Scoped {
    fn scope(&self) -> Scope;
    fn owner(&self) -> &str;
    fn group(&self) -> Option<&str>;
}

impl Scoped for Contact {
    fn scope(&self) -> Scope {
        self.scope
    }
    fn owner(&self) -> &str {
        &self.owner
    }
    fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }
}

impl Scoped for Template {
    fn scope(&self) -> Scope {
        self.scope
    }
    fn owner(&self) -> &str {
        &self.owner
    }
    fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }
}
