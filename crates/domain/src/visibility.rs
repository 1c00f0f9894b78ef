//! Who sees and changes contacts and templates (PRODUCT.md section 5): PERSONAL rows their
//! owner, GROUP rows members of the group, GLOBAL rows everyone (changed by their owner).

use crate::status::Scope;

/// The caller as the contacts and templates operations name one (`owner`/`user` and
/// `group` parameters today; the token's principal once authentication lands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// User name.
    pub user: String,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
}

impl Viewer {
    /// A user in one group.
    pub fn new(user: impl Into<String>, group: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            groups: vec![group.into()],
        }
    }

    fn in_group(&self, group: Option<&str>) -> bool {
        group.is_some_and(|g| self.groups.iter().any(|m| m == g))
    }

    /// May the viewer see a row.
    ///
    /// ```
    /// use pas_domain::visibility::Viewer;
    /// use pas_domain::status::Scope;
    /// let anna = Viewer::new("anna", "sales");
    /// assert!(anna.can_see(Scope::Group, "juris", Some("sales")));
    /// assert!(!anna.can_see(Scope::Personal, "juris", Some("sales")));
    /// assert!(anna.can_see(Scope::Global, "juris", None));
    /// ```
    pub fn can_see(&self, scope: Scope, owner: &str, group: Option<&str>) -> bool {
        match scope {
            Scope::Personal => owner == self.user,
            Scope::Group => self.in_group(group),
            Scope::Global => true,
        }
    }

    /// May the viewer change or delete a row.
    pub fn can_change(&self, scope: Scope, owner: &str, group: Option<&str>) -> bool {
        match scope {
            Scope::Personal | Scope::Global => owner == self.user,
            Scope::Group => self.in_group(group),
        }
    }
}
