use crate::error::Missing;
use std::sync::Arc;

use crate::auth::{Operation, Principal};
use crate::catalog::{AttributeInput, DocumentAttribute, DocumentProfile, ProfileInput};
use crate::ids::{AttributeId, ProfileId};
use crate::ports::{CatalogStore, Clock, IdSource};

use super::{CatalogError, ReadError};

/// Document profile and attribute use cases.
#[derive(Clone)]
pub struct CatalogService {
    store: Arc<dyn CatalogStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
}

impl CatalogService {
    /// Wires the use cases to their ports.
    pub fn new(
        store: Arc<dyn CatalogStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        Self { store, clock, ids }
    }

    /// Looks up every referenced attribute; an unknown one is a 422 naming it.
    async fn resolve(&self, ids: &[AttributeId]) -> Result<Vec<DocumentAttribute>, CatalogError> {
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            match self.store.get_attribute(*id).await? {
                Some(a) => out.push(a),
                None => {
                    return Err(crate::error::ValidationErrors::single(
                        format!("attributes[{i}].id"),
                        format!("attribute {id} does not exist"),
                    )
                    .into());
                }
            }
        }
        Ok(out)
    }

    /// `createDocumentProfile`.
    pub async fn create_profile(
        &self,
        input: ProfileInput,
        principal: &Principal,
    ) -> Result<DocumentProfile, CatalogError> {
        principal.require(Operation::CreateDocumentProfile)?;
        let draft = input.validate(ProfileId::from_uuid(self.ids.new_id()), self.clock.now())?;
        let mut profile = draft.profile;
        profile.attributes = self.resolve(&draft.attribute_ids).await?;
        self.store.insert_profile(&profile).await?;
        Ok(profile)
    }

    /// `updateDocumentProfile`: replaces all but id and creation time.
    pub async fn update_profile(
        &self,
        id: ProfileId,
        input: ProfileInput,
        principal: &Principal,
    ) -> Result<DocumentProfile, CatalogError> {
        principal.require(Operation::UpdateDocumentProfile)?;
        let existing = self
            .store
            .get_profile(id)
            .await?
            .ok_or(CatalogError::NotFound(Missing::DocumentProfile))?;
        let draft = input.validate(id, existing.created_at)?;
        let mut profile = draft.profile;
        profile.attributes = self.resolve(&draft.attribute_ids).await?;
        self.store.update_profile(&profile).await?;
        Ok(profile)
    }

    /// `deleteDocumentProfile`.
    pub async fn delete_profile(
        &self,
        id: ProfileId,
        principal: &Principal,
    ) -> Result<(), CatalogError> {
        principal.require(Operation::DeleteDocumentProfile)?;
        Ok(self.store.delete_profile(id).await?)
    }

    /// `getDocumentProfileById`.
    pub async fn get_profile(
        &self,
        id: ProfileId,
        principal: &Principal,
    ) -> Result<DocumentProfile, ReadError> {
        principal.require(Operation::GetDocumentProfileById)?;
        self.store
            .get_profile(id)
            .await?
            .ok_or(ReadError::NotFound(Missing::DocumentProfile))
    }

    /// `getDocumentProfileByName`: exact match.
    pub async fn profile_by_name(
        &self,
        name: &str,
        principal: &Principal,
    ) -> Result<DocumentProfile, ReadError> {
        principal.require(Operation::GetDocumentProfileByName)?;
        self.store
            .profile_by_name(name.to_owned())
            .await?
            .ok_or(ReadError::NotFound(Missing::DocumentProfile))
    }

    /// `listDocumentProfiles`.
    pub async fn list_profiles(
        &self,
        group: Option<String>,
        principal: &Principal,
    ) -> Result<Vec<DocumentProfile>, ReadError> {
        principal.require(Operation::ListDocumentProfiles)?;
        Ok(self.store.list_profiles(group).await?)
    }

    /// `createDocumentAttribute`: a client UUID is kept when unused (409 when used).
    pub async fn create_attribute(
        &self,
        input: AttributeInput,
        principal: &Principal,
    ) -> Result<DocumentAttribute, CatalogError> {
        principal.require(Operation::CreateDocumentAttribute)?;
        let id = AttributeId::from_uuid(input.id.unwrap_or_else(|| self.ids.new_id()));
        let attribute = input.validate(id, self.clock.now())?;
        self.store.insert_attribute(&attribute).await?;
        Ok(attribute)
    }

    /// `updateDocumentAttribute`.
    pub async fn update_attribute(
        &self,
        id: AttributeId,
        input: AttributeInput,
        principal: &Principal,
    ) -> Result<DocumentAttribute, CatalogError> {
        principal.require(Operation::UpdateDocumentAttribute)?;
        let existing = self
            .store
            .get_attribute(id)
            .await?
            .ok_or(CatalogError::NotFound(Missing::DocumentAttribute))?;
        let attribute = input.validate(id, existing.created_at)?;
        self.store.update_attribute(&attribute).await?;
        Ok(attribute)
    }

    /// `deleteDocumentAttribute`: 409 while a profile uses it.
    pub async fn delete_attribute(
        &self,
        id: AttributeId,
        principal: &Principal,
    ) -> Result<(), CatalogError> {
        principal.require(Operation::DeleteDocumentAttribute)?;
        Ok(self.store.delete_attribute(id).await?)
    }

    /// `getDocumentAttributeById`.
    pub async fn get_attribute(
        &self,
        id: AttributeId,
        principal: &Principal,
    ) -> Result<DocumentAttribute, ReadError> {
        principal.require(Operation::GetDocumentAttributeById)?;
        self.store
            .get_attribute(id)
            .await?
            .ok_or(ReadError::NotFound(Missing::DocumentAttribute))
    }

    /// `listDocumentAttributes`.
    pub async fn list_attributes(
        &self,
        principal: &Principal,
    ) -> Result<Vec<DocumentAttribute>, ReadError> {
        principal.require(Operation::ListDocumentAttributes)?;
        Ok(self.store.list_attributes().await?)
    }
}
