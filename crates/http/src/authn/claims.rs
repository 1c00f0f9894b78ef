//! A verified token's claims read into a [`Principal`] (PRODUCT.md section 10), and the
//! ETSI EN 319 412-1 person identifiers that Baltic eID logins carry.

use pas_domain::auth::{Principal, Roles};
use pas_domain::query::PersonKey;
use serde_json::{Map, Value};

use super::OidcSettings;

/// The principal of verified claims; `None` when the token names no subject
/// (`preferred_username`, else `sub`).
pub(crate) fn principal(claims: &Map<String, Value>, settings: &OidcSettings) -> Option<Principal> {
    let subject = text(claims.get("preferred_username"))
        .or_else(|| text(claims.get("sub")))?
        .to_owned();

    let mut role_names: Vec<&str> = Vec::new();
    role_names.extend(names(path(claims, "realm_access.roles")));
    role_names.extend(names(
        claims
            .get("resource_access")
            .and_then(|r| r.get(settings.audience.as_str()))
            .and_then(|c| c.get("roles")),
    ));
    role_names.extend(names(claims.get("roles")));
    for extra in &settings.roles_claims {
        role_names.extend(names(path(claims, extra)));
    }

    let groups = names(path(claims, &settings.groups_claim))
        .into_iter()
        // Keycloak's "Full group path" gives `/sales` (and `/parent/child`): the leading
        // slash is not part of the name an `ownerGroup` holds.
        .map(|g| g.strip_prefix('/').unwrap_or(g).to_owned())
        .filter(|g| !g.is_empty())
        .collect::<Vec<_>>();

    let client = text(claims.get("azp"))
        .or_else(|| text(claims.get("client_id")))
        .map(str::to_owned);
    let person = text(path(claims, &settings.person_claim)).and_then(person_of_identifier);

    Some(
        Principal::new(subject, Roles::parse_names(role_names))
            .with_groups(groups)
            .with_client(client)
            .with_person(person),
    )
}

/// The person of an ETSI EN 319 412-1 natural-person identifier: `PNO` (national personal
/// number), a two-letter country, `-`, the code: `PNOLV-161175-19997`, `PNOEE-37605030299`.
/// Anything else (another type such as `PAS`/`IDC`, or no prefix) is no person, not an
/// error: such logins simply cannot act as a signer.
pub(crate) fn person_of_identifier(value: &str) -> Option<PersonKey> {
    let rest = value.trim().strip_prefix("PNO")?;
    let country = rest.get(..2)?;
    let code = rest.get(2..)?.strip_prefix('-')?;
    if !country.chars().all(|c| c.is_ascii_alphabetic()) || code.is_empty() {
        return None;
    }
    PersonKey::parse(code, country).ok()
}

/// The value at a dotted path (`realm_access.roles`); a path without dots is a top-level
/// claim.
fn path<'a>(claims: &'a Map<String, Value>, dotted: &str) -> Option<&'a Value> {
    let mut parts = dotted.split('.');
    let first = claims.get(parts.next()?)?;
    parts.try_fold(first, |v, key| v.get(key))
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Names from an array of strings, or from one string of space-separated names (the form
/// of `scope`); anything else is none.
fn names(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => s.split_whitespace().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pas_domain::auth::Role;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn roles_come_from_every_place_and_unknown_names_are_dropped() {
        let mut settings = OidcSettings::new("https://idp", "pas");
        settings.roles_claims = vec!["ext.pas.roles".to_owned()];
        let p = principal(
            &claims(json!({
                "sub": "f:1",
                "preferred_username": "anna",
                "realm_access": {"roles": ["pas-user", "offline_access"]},
                "resource_access": {"pas": {"roles": ["pas-auditor"]}, "other": {"roles": ["pas-admin"]}},
                "roles": "pas-audit-writer",
                "ext": {"pas": {"roles": ["pas-signer"]}},
                "groups": ["/sales", "/legal/contracts", "plain", "/"],
                "azp": "portal",
                "serialNumber": "PNOLV-161175-19997"
            })),
            &settings,
        )
        .expect("subject");
        assert_eq!(p.subject, "anna");
        assert_eq!(
            p.roles,
            Roles::of(&[Role::User, Role::Auditor, Role::AuditWriter, Role::Signer])
        );
        assert_eq!(p.groups, ["sales", "legal/contracts", "plain"]);
        assert_eq!(p.client.as_deref(), Some("portal"));
        assert_eq!(p.person, PersonKey::parse("16117519997", "LV").ok());
    }

    #[test]
    fn sub_and_client_id_are_the_fallbacks_and_no_subject_is_none() {
        let settings = OidcSettings::new("https://idp", "pas");
        let p = principal(
            &claims(json!({"sub": "svc", "client_id": "batch"})),
            &settings,
        )
        .expect("subject");
        assert_eq!(p.subject, "svc");
        assert_eq!(p.client.as_deref(), Some("batch"));
        assert_eq!(p.roles, Roles::NONE);
        assert!(p.person.is_none());
        assert!(principal(&claims(json!({"azp": "x"})), &settings).is_none());
    }

    #[test]
    fn only_pno_identifiers_name_a_person() {
        assert_eq!(
            person_of_identifier("PNOEE-37605030299"),
            PersonKey::parse("37605030299", "EE").ok()
        );
        assert!(person_of_identifier("PNOLT-38703181745").is_some());
        for other in [
            "IDCLV-123",
            "PASEE-K1234",
            "37605030299",
            "PNOEE37605030299",
            "PNOEE-",
            "PNO",
            "PNOXX-123",
            "PNO1E-123",
        ] {
            assert!(person_of_identifier(other).is_none(), "{other}");
        }
    }
}
