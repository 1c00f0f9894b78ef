//! Static bearer tokens (`AUTH_TOKENS_FILE`): for deployments without an identity provider
//! and for service clients.
//!
//! The file holds the SHA-256 of each secret, never the secret:
//!
//! ```toml
//! [[token]]
//! name = "document-store"            # the principal's subject and client
//! sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! roles = ["pas-audit-writer"]
//! groups = []                         # optional
//! person = "PNOLV-161175-19997"       # optional: the person a pas-signer token is
//! expires = "2027-01-01T00:00:00Z"    # optional, RFC 3339; afterwards the token is 401
//! ```
//!
//! A presented secret is hashed and compared with every entry in constant time, so neither
//! the answer's timing nor a log line tells how close a guess was.

use std::fmt;
use std::path::Path;

use pas_domain::auth::{Principal, Role, Roles};
use pas_domain::query::PersonKey;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AuthError;
use super::claims::person_of_identifier;

/// The tokens of `AUTH_TOKENS_FILE`.
pub struct TokenTable {
    entries: Vec<Entry>,
}

struct Entry {
    name: String,
    sha256: [u8; 32],
    roles: Roles,
    groups: Vec<String>,
    person: Option<PersonKey>,
    expires: Option<OffsetDateTime>,
}

impl fmt::Debug for TokenTable {
    // Names only: a hash of a weak secret is as good as the secret to a guesser.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.name))
            .finish()
    }
}

impl TokenTable {
    /// Reads and checks a tokens file. The error is one line naming the path, the entry and
    /// the field, never a value.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {}", path.display(), e.kind()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses the text of a tokens file.
    pub fn parse(text: &str) -> Result<Self, String> {
        // Walked by hand rather than deserialized: serde's messages quote the offending
        // value, and a secret pasted into the wrong field must not reach the start log.
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            let message = e.message().replace('\n', "; ");
            match line {
                Some(line) => format!("not valid TOML (line {line}): {message}"),
                None => format!("not valid TOML: {message}"),
            }
        })?;
        let mut entries: Vec<Entry> = Vec::new();
        for (key, value) in &table {
            if key != "token" {
                return Err(format!("unknown key {key:?}; expected [[token]] entries"));
            }
            let Some(items) = value.as_array() else {
                return Err("token must be an array of tables ([[token]])".to_owned());
            };
            for (i, item) in items.iter().enumerate() {
                let Some(fields) = item.as_table() else {
                    return Err(format!("token {} is not a table", i + 1));
                };
                let entry = Entry::parse(fields).map_err(|e| format!("token {}: {e}", i + 1))?;
                if entries.iter().any(|other| other.name == entry.name) {
                    return Err(format!(
                        "token {}: name {:?} is used twice",
                        i + 1,
                        entry.name
                    ));
                }
                if entries.iter().any(|other| other.sha256 == entry.sha256) {
                    return Err(format!(
                        "token {} ({}): sha256 is the same as another token's",
                        i + 1,
                        entry.name
                    ));
                }
                entries.push(entry);
            }
        }
        if entries.is_empty() {
            return Err("holds no [[token]] entry".to_owned());
        }
        Ok(Self { entries })
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal of a presented secret at `now`.
    pub fn verify(&self, secret: &str, now: OffsetDateTime) -> Result<Principal, AuthError> {
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let mut found: Option<&Entry> = None;
        // Every entry is compared, whether or not an earlier one matched.
        for entry in &self.entries {
            let equal: bool = entry.sha256.ct_eq(&digest).into();
            if equal && found.is_none() {
                found = Some(entry);
            }
        }
        let entry = found.ok_or_else(|| AuthError::Invalid("unknown static token".to_owned()))?;
        if entry.expires.is_some_and(|t| t <= now) {
            return Err(AuthError::Invalid(format!(
                "static token {:?} has expired",
                entry.name
            )));
        }
        Ok(Principal::new(entry.name.clone(), entry.roles)
            .with_groups(entry.groups.iter().cloned())
            .with_client(Some(entry.name.clone()))
            .with_person(entry.person.clone()))
    }
}

impl Entry {
    fn parse(fields: &toml::Table) -> Result<Self, String> {
        const KNOWN: [&str; 6] = ["name", "sha256", "roles", "groups", "person", "expires"];
        if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!(
                "unknown field {unknown:?} (expected {}; the secret itself is never stored, only its sha256)",
                KNOWN.join(", ")
            ));
        }
        let name = fields
            .get("name")
            .and_then(toml::Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or("name is required (a non-empty string)")?
            .to_owned();
        let at = |msg: &str| format!("{name}: {msg}");
        let sha256 = fields
            .get("sha256")
            .and_then(toml::Value::as_str)
            .and_then(|h| hex::decode(h.trim()).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| {
                at("sha256 must be 64 hex digits (printf %s \"$SECRET\" | sha256sum)")
            })?;
        let role_names =
            strings(fields.get("roles")).ok_or_else(|| at("roles must be a list of role names"))?;
        let mut roles = Roles::NONE;
        for r in &role_names {
            let role = Role::parse(r).ok_or_else(|| {
                at(&format!(
                    "unknown role {r:?} (expected {})",
                    Role::ALL.map(Role::name).join(", ")
                ))
            })?;
            roles = roles.with(role);
        }
        if roles == Roles::NONE {
            return Err(at("roles must name at least one role"));
        }
        let groups = match fields.get("groups") {
            None => Vec::new(),
            Some(v) => strings(Some(v)).ok_or_else(|| at("groups must be a list of names"))?,
        };
        let person =
            match fields.get("person") {
                None => None,
                Some(v) => Some(v.as_str().and_then(person_of_identifier).ok_or_else(|| {
                    at("person must be an identifier such as PNOLV-161175-19997")
                })?),
            };
        let expires = match fields.get("expires") {
            None => None,
            Some(v) => {
                // Quoted or a bare TOML date-time; either way it must carry an offset.
                let text = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Datetime(d) => d.to_string(),
                    _ => String::new(),
                };
                Some(OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
                    at("expires must be an RFC 3339 date-time such as 2027-01-01T00:00:00Z")
                })?)
            }
        };
        Ok(Self {
            name,
            sha256,
            roles,
            groups,
            person,
            expires,
        })
    }
}

fn strings(v: Option<&toml::Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(|s| s.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }

    fn table(extra: &str) -> String {
        format!(
            "[[token]]\nname = \"store\"\nsha256 = \"{}\"\nroles = [\"pas-audit-writer\"]\n{extra}",
            sha("s3cret")
        )
    }

    #[test]
    fn a_good_secret_gives_its_principal() {
        let t = TokenTable::parse(&table(
            "groups = [\"sales\"]\nperson = \"PNOEE-37605030299\"\nexpires = 2999-01-01T00:00:00Z\n",
        ))
        .expect("valid");
        let p = t
            .verify("s3cret", OffsetDateTime::now_utc())
            .expect("known");
        assert_eq!(p.subject, "store");
        assert_eq!(p.client.as_deref(), Some("store"));
        assert!(p.has(Role::AuditWriter) && !p.has(Role::Admin));
        assert_eq!(p.groups, ["sales"]);
        assert_eq!(p.person, PersonKey::parse("37605030299", "EE").ok());
        assert!(matches!(
            t.verify("s3cret ", OffsetDateTime::now_utc()),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let t =
            TokenTable::parse(&table("expires = \"2020-01-01T00:00:00+02:00\"\n")).expect("valid");
        assert!(matches!(
            t.verify("s3cret", OffsetDateTime::now_utc()),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn bad_files_are_one_line_without_values() {
        for (text, needle) in [
            (table("secret = \"hunter2\"\n"), "unknown field \"secret\""),
            (
                "[[token]]\nname = \"a\"\nsha256 = \"hunter2\"\nroles = [\"pas-admin\"]\n"
                    .to_owned(),
                "sha256 must be",
            ),
            (table("person = \"hunter2\"\n"), "person must be"),
            (table("expires = \"hunter2\"\n"), "expires must be"),
            (
                table("").replace("pas-audit-writer", "hunter2"),
                "unknown role \"hunter2\"",
            ),
            (
                table("")
                    .replace("pas-audit-writer\"", "\"")
                    .replace("[\"\"]", "[]"),
                "at least one role",
            ),
            (format!("{}{}", table(""), table("")), "used twice"),
            ("token = \"hunter2\"\n".to_owned(), "array of tables"),
            ("".to_owned(), "no [[token]]"),
            ("[[token]\nname = \"hunter2".to_owned(), "not valid TOML"),
        ] {
            let e = TokenTable::parse(&text).expect_err("refused");
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains('\n'), "{e}");
            if needle != "unknown role \"hunter2\"" {
                assert!(!e.contains("hunter2"), "{e}");
            }
        }
    }

    #[test]
    fn debug_shows_names_only() {
        let t = TokenTable::parse(&table("")).expect("valid");
        let shown = format!("{t:?}");
        assert_eq!(shown, "[\"store\"]");
    }
}
