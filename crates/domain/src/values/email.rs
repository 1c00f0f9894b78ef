//! Email addresses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ValueError;

/// Longest accepted address, in bytes (RFC 5321 path limit minus the angle brackets).
const MAX_LEN: usize = 254;
/// Longest accepted local part, in bytes (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// Longest DNS label, in bytes (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// An email address that passed a pragmatic RFC 5321 check.
///
/// The input is trimmed; it must contain exactly one `@`; the local part is 1 to 64 bytes
/// without whitespace or control characters (quoted local parts are not supported); the domain
/// is at least two dot-separated labels of ASCII letters, digits and hyphens, none starting or
/// ending with a hyphen, and the top-level label is not all digits; the whole address is at most
/// 254 bytes. The domain is stored lower-cased, the local part as given.
///
/// Serialized as a plain string; deserializing runs [`Email::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Checks and normalizes an email address.
    ///
    /// # Errors
    ///
    /// [`ValueError::Empty`] for blank input, [`ValueError::TooLong`] above 254 bytes,
    /// [`ValueError::Email`] for anything else that breaks the rules of [`Email`].
    ///
    /// ```
    /// use pas_domain::values::Email;
    ///
    /// let email = Email::parse(" Jane.Doe+signing@Mail.Example.LV ")?;
    /// assert_eq!(email.as_str(), "Jane.Doe+signing@mail.example.lv");
    /// assert!(Email::parse("jane@localhost").is_err());
    /// # Ok::<(), pas_domain::values::ValueError>(())
    /// ```
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValueError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(ValueError::TooLong { max: MAX_LEN });
        }
        // Splits at the first '@'; a second one ends up in the domain, where it is rejected.
        let (local, domain) = trimmed.split_once('@').ok_or(ValueError::Email)?;
        if !is_valid_local_part(local) || !is_valid_domain(domain) {
            return Err(ValueError::Email);
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address as stored (domain lower-cased).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_local_part(local: &str) -> bool {
    (1..=MAX_LOCAL_LEN).contains(&local.len())
        && !local.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let tld_has_letter = labels
        .last()
        .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    labels.len() >= 2 && labels.iter().all(|label| is_valid_label(label)) && tld_has_letter
}

fn is_valid_label(label: &str) -> bool {
    (1..=MAX_LABEL_LEN).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = ValueError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Result<String, ValueError> {
        Email::parse(raw).map(|email| email.as_str().to_owned())
    }

    #[test]
    fn simple_address_is_accepted() {
        assert_eq!(
            parsed("jane@example.com"),
            Ok("jane@example.com".to_owned())
        );
    }

    #[test]
    fn plus_addressing_and_dots_in_local_part_are_accepted() {
        assert_eq!(
            parsed("jane.doe+signing@example.lv"),
            Ok("jane.doe+signing@example.lv".to_owned())
        );
    }

    #[test]
    fn subdomains_hyphens_and_digits_in_labels_are_accepted() {
        for raw in [
            "a@mail.dept.example.co.uk",
            "a@my-host.example.ee",
            "a@123.example.lt",
        ] {
            assert_eq!(parsed(raw), Ok(raw.to_owned()), "{raw}");
        }
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(
            parsed("  jane@example.com\n"),
            Ok("jane@example.com".to_owned())
        );
    }

    #[test]
    fn domain_is_lower_cased_and_local_part_kept() {
        assert_eq!(
            parsed("Jane.DOE@Example.COM"),
            Ok("Jane.DOE@example.com".to_owned())
        );
    }

    #[test]
    fn address_without_at_is_rejected() {
        assert_eq!(parsed("jane.example.com"), Err(ValueError::Email));
    }

    #[test]
    fn address_with_two_at_signs_is_rejected() {
        assert_eq!(parsed("jane@doe@example.com"), Err(ValueError::Email));
        assert_eq!(parsed("jane@example@com"), Err(ValueError::Email));
    }

    #[test]
    fn empty_local_part_is_rejected() {
        assert_eq!(parsed("@example.com"), Err(ValueError::Email));
    }

    #[test]
    fn empty_and_blank_input_is_rejected_as_empty() {
        assert_eq!(parsed(""), Err(ValueError::Empty));
        assert_eq!(parsed(" \t "), Err(ValueError::Empty));
    }

    #[test]
    fn label_with_leading_or_trailing_hyphen_is_rejected() {
        assert_eq!(parsed("jane@-example.com"), Err(ValueError::Email));
        assert_eq!(parsed("jane@example-.com"), Err(ValueError::Email));
        assert_eq!(parsed("jane@example.-com"), Err(ValueError::Email));
    }

    #[test]
    fn spaces_and_control_characters_inside_are_rejected() {
        for raw in [
            "jane doe@example.com",
            "jane@exa mple.com",
            "jane\r\n@example.com",
            "ja\u{7}ne@example.com",
        ] {
            assert_eq!(parsed(raw), Err(ValueError::Email), "{raw:?}");
        }
    }

    #[test]
    fn single_label_domain_is_rejected() {
        assert_eq!(parsed("jane@localhost"), Err(ValueError::Email));
    }

    #[test]
    fn empty_labels_and_numeric_tld_are_rejected() {
        for raw in [
            "jane@example..com",
            "jane@.example.com",
            "jane@example.com.",
            "jane@",
            "jane@10.0.0.1",
        ] {
            assert_eq!(parsed(raw), Err(ValueError::Email), "{raw}");
        }
    }

    #[test]
    fn invalid_domain_characters_are_rejected() {
        for raw in ["jane@exa_mple.com", "jane@[10.0.0.1]", "jane@exämple.com"] {
            assert_eq!(parsed(raw), Err(ValueError::Email), "{raw}");
        }
    }

    #[test]
    fn address_of_254_characters_is_accepted_and_255_rejected() {
        let domain = format!(
            "{}.{}.{}.com",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(57)
        );
        let at_limit = format!("{}@{domain}", "j".repeat(64));
        assert_eq!(at_limit.len(), 254);
        assert_eq!(parsed(&at_limit), Ok(at_limit.clone()));
        let over_limit = format!("{}@{domain}", "j".repeat(65));
        assert_eq!(parsed(&over_limit), Err(ValueError::TooLong { max: 254 }));
    }

    #[test]
    fn local_part_over_64_characters_is_rejected() {
        assert_eq!(
            parsed(&format!("{}@example.com", "j".repeat(65))),
            Err(ValueError::Email)
        );
    }

    #[test]
    fn label_over_63_characters_is_rejected() {
        assert_eq!(
            parsed(&format!("j@{}.com", "a".repeat(64))),
            Err(ValueError::Email)
        );
    }

    #[test]
    fn display_from_str_and_as_ref_agree() {
        let email: Result<Email, _> = "Jane@Example.com".parse();
        assert_eq!(
            email.map(|e| (e.to_string(), e.as_ref().to_owned())),
            Ok(("Jane@example.com".to_owned(), "Jane@example.com".to_owned()))
        );
    }

    #[test]
    fn serde_round_trip_is_a_plain_string() {
        let email = Email::parse("jane+x@example.com");
        let json = email
            .as_ref()
            .map(|e| serde_json::to_string(e).map_err(|e| e.to_string()));
        assert_eq!(json, Ok(Ok("\"jane+x@example.com\"".to_owned())));
        let back: Result<Email, _> = serde_json::from_str("\"jane+x@EXAMPLE.com\"");
        assert_eq!(back.ok(), email.ok());
    }

    #[test]
    fn deserialize_rejects_invalid_address() {
        let parsed: Result<Email, _> = serde_json::from_str("\"jane@localhost\"");
        let message = parsed.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(
            message.contains("is not a valid email address"),
            "{message}"
        );
    }
}
