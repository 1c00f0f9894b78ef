//! Personal codes in audit rows (PRODUCT.md section 11): audit rows never hold a plaintext
//! personal code. They hold a keyed pseudonym, to find a person's events, and a masked form,
//! to show. Both are part of the row the hash chain covers, so erasing a person's data
//! elsewhere leaves every chain verifying. The key comes in as a value ([`PiiKey`]).

use crate::audit::{HmacKey, ShortKey};
use crate::query::PersonKey;
use crate::values::{CountryCode, normalize_personal_code};

/// How many leading characters of a personal code its masked form keeps.
pub const MASK_KEEP: usize = 6;

/// The secret key of the pseudonyms (`PII_KEY`). `Debug` shows its id only, never the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiKey(HmacKey);

/// A person as an audit row holds them: the keyed pseudonym and the masked code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudonymised {
    /// HMAC-SHA256 (hex) of the normalised code and the country ([`PiiKey::pseudonym`]).
    pub pseudonym: String,
    /// The code as given with every letter and digit after the first [`MASK_KEEP`]
    /// characters replaced by `*` ([`mask_personal_code`]).
    pub masked: String,
}

impl PiiKey {
    /// The key `secret` (at least [`crate::audit::MIN_KEY_BYTES`] bytes). Its id, like an
    /// audit key's, is the first 8 hex digits of the SHA-256 of the secret.
    ///
    /// ```
    /// use pas_domain::pseudonym::PiiKey;
    /// assert!(PiiKey::new(vec![9; 32]).is_ok());
    /// assert!(PiiKey::new(vec![9; 16]).is_err());
    /// ```
    pub fn new(secret: Vec<u8>) -> Result<Self, ShortKey> {
        HmacKey::new(secret).map(Self)
    }

    /// The key's id (for logs and reports; never the key).
    pub fn id(&self) -> &str {
        self.0.id()
    }

    /// The pseudonym of a personal code: HMAC-SHA256 (hex) under this key over the code
    /// normalised as in section 8 (no spaces or hyphens, upper case), a newline, and the
    /// upper-case country (empty when the country is not known: an event another system
    /// recorded without a process that names the person).
    ///
    /// ```
    /// use pas_domain::pseudonym::PiiKey;
    /// use pas_domain::values::CountryCode;
    /// let key = PiiKey::new(vec![9; 32]).unwrap();
    /// let a = key.pseudonym("161175-19997", Some(CountryCode::LV));
    /// assert_eq!(a, key.pseudonym(" 16117519997", Some(CountryCode::LV)));
    /// assert_ne!(a, key.pseudonym("16117519997", Some(CountryCode::EE)));
    /// assert_eq!(a.len(), 64);
    /// ```
    pub fn pseudonym(&self, code: &str, country: Option<CountryCode>) -> String {
        self.pseudonym_of_normalised(
            &normalize_personal_code(code),
            country.as_ref().map_or("", CountryCode::as_str),
        )
    }

    fn pseudonym_of_normalised(&self, code: &str, country: &str) -> String {
        self.0.hmac_hex(&[
            code.as_bytes(),
            b"\n",
            country.to_ascii_uppercase().as_bytes(),
        ])
    }

    /// The stored form of a personal code: its pseudonym and its masked form.
    ///
    /// ```
    /// use pas_domain::pseudonym::PiiKey;
    /// use pas_domain::values::CountryCode;
    /// let key = PiiKey::new(vec![9; 32]).unwrap();
    /// let stored = key.pseudonymise("161175-19997", Some(CountryCode::LV));
    /// assert_eq!(stored.masked, "161175-*****");
    /// assert!(!stored.pseudonym.contains("19997"));
    /// ```
    pub fn pseudonymise(&self, code: &str, country: Option<CountryCode>) -> Pseudonymised {
        Pseudonymised {
            pseudonym: self.pseudonym(code, country),
            masked: mask_personal_code(code),
        }
    }

    /// The pseudonyms under which a person's events are stored: with their country, and
    /// without one (events recorded by other systems without a process naming the person).
    ///
    /// ```
    /// use pas_domain::pseudonym::PiiKey;
    /// use pas_domain::query::PersonKey;
    /// use pas_domain::values::CountryCode;
    /// let key = PiiKey::new(vec![9; 32]).unwrap();
    /// let person = PersonKey::parse("161175-19997", "lv").unwrap();
    /// let [with, without] = key.pseudonyms_of(&person);
    /// assert_eq!(with, key.pseudonym("16117519997", Some(CountryCode::LV)));
    /// assert_eq!(without, key.pseudonym("16117519997", None));
    /// ```
    pub fn pseudonyms_of(&self, person: &PersonKey) -> [String; 2] {
        [
            self.pseudonym_of_normalised(&person.code, person.country.as_str()),
            self.pseudonym_of_normalised(&person.code, ""),
        ]
    }
}

/// The masked form of a personal code: the first [`MASK_KEEP`] characters as given, then
/// every letter and digit replaced by `*` (separators kept, so the form stays readable).
/// Masking a masked code changes nothing.
///
/// ```
/// use pas_domain::pseudonym::mask_personal_code;
/// assert_eq!(mask_personal_code("161175-19997"), "161175-*****");
/// assert_eq!(mask_personal_code("37605030299"), "376050*****");
/// assert_eq!(mask_personal_code("161175-*****"), "161175-*****");
/// assert_eq!(mask_personal_code("1234"), "1234");
/// ```
pub fn mask_personal_code(code: &str) -> String {
    code.trim()
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i >= MASK_KEEP && c.is_alphanumeric() {
                '*'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pseudonym_depends_on_the_key() {
        let a = PiiKey::new(vec![1; 32]).unwrap();
        let b = PiiKey::new(vec![2; 32]).unwrap();
        let code = "37605030299";
        assert_ne!(
            a.pseudonym(code, Some(CountryCode::EE)),
            b.pseudonym(code, Some(CountryCode::EE))
        );
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let key = PiiKey::new(vec![0xAB; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("171"), "{shown}");
        assert!(shown.contains(key.id()));
    }
}
