//! The keys of the audit trail (PRODUCT.md section 11): `AUDIT_KEY` or `AUDIT_KEY_FILE` signs
//! the chain, `AUDIT_OLD_KEYS_FILE` keeps retired keys for verification; `PII_KEY` or
//! `PII_KEY_FILE` makes the pseudonyms of personal codes. With `AUTH_MODE=off` and no key a
//! key is generated once into `data/audit.key` or `data/pii.key` (mode 0600, under the
//! working directory) and reused; otherwise a missing key stops the start. Messages name
//! files, never key bytes.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pas_domain::audit::{AuditKey, AuditKeys, MIN_KEY_BYTES};
use pas_domain::pseudonym::PiiKey;

use crate::config::{AuditKeySettings, PiiKeySettings};

/// Where the development audit key lives, relative to the working directory.
pub const GENERATED_KEY_FILE: &str = "data/audit.key";

/// Where the development PII key lives, relative to the working directory.
pub const GENERATED_PII_KEY_FILE: &str = "data/pii.key";

/// A key in base64 (standard alphabet, padding optional), at least [`MIN_KEY_BYTES`] long.
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .map_err(|_| "expected a key in base64".to_owned())?;
    if bytes.len() < MIN_KEY_BYTES {
        return Err(format!(
            "a key must have at least {MIN_KEY_BYTES} bytes, this one has {}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// The audit keys of `settings`. `may_generate` (`AUTH_MODE=off`): without a key, use or create
/// [`GENERATED_KEY_FILE`].
pub fn load(settings: &AuditKeySettings, may_generate: bool) -> Result<AuditKeys, String> {
    let current = match (&settings.key, &settings.key_file) {
        (Some(bytes), _) => bytes.clone(),
        (None, Some(path)) => read_key_file(path, "AUDIT_KEY_FILE")?,
        (None, None) if may_generate => generated_key(Path::new(GENERATED_KEY_FILE), "AUDIT_KEY")?,
        (None, None) => {
            return Err(
                "AUDIT_KEY or AUDIT_KEY_FILE is required (a key is generated only with AUTH_MODE=off)"
                    .to_owned(),
            );
        }
    };
    let current = AuditKey::new(current).map_err(|e| e.to_string())?;
    let mut retired = Vec::new();
    if let Some(path) = &settings.old_keys_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "invalid AUDIT_OLD_KEYS_FILE: cannot read {}: {e}",
                path.display()
            )
        })?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bytes = decode(line).map_err(|m| {
                format!(
                    "invalid AUDIT_OLD_KEYS_FILE: line {} of {}: {m}",
                    n + 1,
                    path.display()
                )
            })?;
            retired.push(AuditKey::new(bytes).map_err(|e| e.to_string())?);
        }
    }
    Ok(AuditKeys::new(current, retired))
}

fn read_key_file(path: &Path, variable: &str) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("invalid {variable}: cannot read {}: {e}", path.display()))?;
    decode(&text).map_err(|m| format!("invalid {variable}: {}: {m}", path.display()))
}

/// The key of pseudonyms of `settings`. `may_generate` (`AUTH_MODE=off`): without a key,
/// use or create [`GENERATED_PII_KEY_FILE`].
pub fn load_pii(settings: &PiiKeySettings, may_generate: bool) -> Result<PiiKey, String> {
    let key = match (&settings.key, &settings.key_file) {
        (Some(bytes), _) => bytes.clone(),
        (None, Some(path)) => read_key_file(path, "PII_KEY_FILE")?,
        (None, None) if may_generate => {
            generated_key(Path::new(GENERATED_PII_KEY_FILE), "PII_KEY")?
        }
        (None, None) => {
            return Err(
                "PII_KEY or PII_KEY_FILE is required (a key is generated only with AUTH_MODE=off)"
                    .to_owned(),
            );
        }
    };
    PiiKey::new(key).map_err(|e| e.to_string())
}

/// The key of `path` (the stand-in for `variable`), created with a new random key (mode
/// 0600) when missing.
fn generated_key(path: &Path, variable: &str) -> Result<Vec<u8>, String> {
    if path.exists() {
        return read_key_file(path, &format!("the generated {variable}"));
    }
    let mut key = vec![0_u8; MIN_KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| format!("cannot generate a {variable}: {e}"))?;
    let cannot = |e: std::io::Error| {
        format!(
            "cannot write the generated {variable} {}: {e}",
            path.display()
        )
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(cannot)?;
    file.write_all(format!("{}\n", STANDARD.encode(&key)).as_bytes())
        .map_err(cannot)?;
    let without = if variable == "PII_KEY" {
        "a person's audit events cannot be found"
    } else {
        "the audit trail cannot be verified"
    };
    tracing::warn!(
        file = %PathBuf::from(path).display(),
        "AUTH_MODE=off and no {variable}: generated one; keep this file, without it {without}"
    );
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("audit.key");
        let first = generated_key(&path, "AUDIT_KEY").unwrap();
        let again = generated_key(&path, "AUDIT_KEY").unwrap();
        assert_eq!(first, again);
        assert_eq!(first.len(), MIN_KEY_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_missing_key_stops_the_start_unless_auth_is_off() {
        let err = load(&AuditKeySettings::default(), false).unwrap_err();
        assert!(err.contains("AUDIT_KEY"), "{err}");
        assert!(!err.contains('\n'));
        let err = load_pii(&PiiKeySettings::default(), false).unwrap_err();
        assert!(err.contains("PII_KEY"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn short_or_garbled_keys_are_refused_and_old_keys_are_read() {
        assert!(
            decode("c2hvcnQ=")
                .unwrap_err()
                .contains("at least 32 bytes")
        );
        assert!(decode("not base64!").is_err());
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.keys");
        let a = STANDARD.encode([1_u8; 32]);
        let b = STANDARD.encode([2_u8; 40]);
        std::fs::write(&old, format!("# retired\n{a}\n\n{b}\n")).unwrap();
        let settings = AuditKeySettings {
            key: Some(vec![3; 32]),
            key_file: None,
            old_keys_file: Some(old),
        };
        let keys = load(&settings, false).unwrap();
        let old_id = AuditKey::new(vec![1; 32]).unwrap().id().to_owned();
        assert!(keys.find(&old_id).is_some());
        assert_ne!(keys.current().id(), old_id);
    }
}
