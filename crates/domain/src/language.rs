//! A recipient's language tag (`lv`, `en`, `en-GB`), which picks the email template.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The tag is not a BCP 47 language tag of the accepted shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a language tag such as lv, en or en-GB")]
pub struct InvalidLanguage;

/// A BCP 47 language tag, lower-cased: 2–3 letter primary tag, optional subtags of 1–8
/// letters or digits, 35 characters at most.
///
/// ```
/// use pas_domain::language::Language;
/// assert_eq!(Language::parse(" LV ").unwrap().as_str(), "lv");
/// assert_eq!(Language::parse("en-GB").unwrap().primary(), "en");
/// assert!(Language::parse("latvian!").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// Checks and lower-cases a tag.
    pub fn parse(raw: &str) -> Result<Self, InvalidLanguage> {
        let tag = raw.trim().to_ascii_lowercase();
        let mut parts = tag.split('-');
        let primary_ok = parts.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase())
        });
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if primary_ok && rest_ok && tag.len() <= 35 {
            Ok(Self(tag))
        } else {
            Err(InvalidLanguage)
        }
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`en` of `en-gb`).
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Language {
    type Error = InvalidLanguage;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Language> for String {
    fn from(value: Language) -> Self {
        value.0
    }
}
