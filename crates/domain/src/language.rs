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

/// The tags to try, in order, when picking a template for a recipient: each language of
/// `preferences` (the recipient's `signerLanguage`, then the configured defaults) as given,
/// then its primary subtag, without repeats. This is the one place where a region subtag
/// falls back to its language (`ru-LV` → `ru`), so every lookup treats regions alike.
///
/// ```
/// use pas_domain::language::{Language, fallback_chain};
/// let lang = |t: &str| Language::parse(t).unwrap();
/// let (recipient, default, last) = (lang("lt-LT"), lang("lv"), lang("en"));
/// assert_eq!(
///     fallback_chain([Some(&recipient), Some(&default), Some(&last)]),
///     ["lt-lt", "lt", "lv", "en"]
/// );
/// ```
pub fn fallback_chain<'a>(
    preferences: impl IntoIterator<Item = Option<&'a Language>>,
) -> Vec<&'a str> {
    let mut chain: Vec<&str> = Vec::new();
    for language in preferences.into_iter().flatten() {
        for tag in [language.as_str(), language.primary()] {
            if !chain.contains(&tag) {
                chain.push(tag);
            }
        }
    }
    chain
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Language {
    type Err = InvalidLanguage;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> Language {
        Language::parse(tag).expect("a valid tag")
    }

    #[test]
    fn a_region_falls_back_to_its_primary_subtag_before_the_defaults() {
        let (ru_lv, lv, en) = (lang("ru-LV"), lang("lv"), lang("en"));
        assert_eq!(
            fallback_chain([Some(&ru_lv), Some(&lv), Some(&en)]),
            ["ru-lv", "ru", "lv", "en"]
        );
    }

    #[test]
    fn a_missing_recipient_language_starts_at_the_defaults_and_repeats_are_dropped() {
        let (en_gb, en) = (lang("en-GB"), lang("en"));
        assert_eq!(fallback_chain([None, Some(&en), Some(&en)]), ["en"]);
        assert_eq!(
            fallback_chain([Some(&en), Some(&en_gb), Some(&en)]),
            ["en", "en-gb"]
        );
        assert!(fallback_chain([None]).is_empty());
    }

    #[test]
    fn tags_are_lower_cased_and_split_at_the_first_hyphen() {
        let tag = lang(" LT-lt ");
        assert_eq!(tag.as_str(), "lt-lt");
        assert_eq!(tag.primary(), "lt");
        assert_eq!(lang("et").primary(), "et");
        assert!(Language::parse("lt_LT").is_err());
    }
}
