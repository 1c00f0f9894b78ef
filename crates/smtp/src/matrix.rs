//! The notification matrix (PRODUCT.md section 7): event type → recipient role → language →
//! `{subject, template}`, loaded from a TOML file (`NOTIFICATIONS_FILE`) or built in.
//! The format is described in the crate README.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use pas_domain::language::{Language, fallback_chain};
use pas_domain::notify::RecipientRole;
use pas_domain::status::EventType;

use crate::context::{self, ContextSettings};

/// A notification matrix that cannot be used: names the file, the key at fault (dotted,
/// e.g. `TASK_STARTED.signer.lv`) and what is wrong. Its `Display` is one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct MatrixError {
    /// The file (`built-in` for the built-in matrix).
    pub file: String,
    /// The dotted key at fault; empty when the file as a whole is at fault.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for MatrixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "notification matrix {}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "notification matrix {}, key {}: {}",
                self.file, self.key, self.message
            )
        }
    }
}

/// One cell of the matrix, its templates registered in the environment under these names.
#[derive(Debug, Clone)]
pub(crate) enum Entry {
    /// A blank template: this role gets no email for this event in this language.
    Blank,
    /// An email.
    Email {
        /// Name of the subject template.
        subject: String,
        /// Name of the plain-text template.
        text: String,
        /// Name of the HTML template, when the entry has one.
        html: Option<String>,
    },
}

/// The notification matrix with every template parsed.
///
/// Lookup order for a recipient language such as `ru-lv`: the exact tag, its primary subtag
/// (`ru`), then the configured default (`MAIL_DEFAULT_LANGUAGE`, given by the renderer),
/// then the matrix's own `default_language` (see [`fallback_chain`]). An event and role the
/// matrix does not list at all gets no email, like a blank template.
pub struct Matrix {
    source: String,
    default_language: Language,
    entries: BTreeMap<(EventType, RecipientRole), BTreeMap<String, Entry>>,
    env: Environment<'static>,
}

impl fmt::Debug for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matrix")
            .field("source", &self.source)
            .field("default_language", &self.default_language)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// The built-in matrix and its templates, embedded in the binary.
const BUILTIN_MATRIX: &str = include_str!("../templates/notifications.toml");

macro_rules! builtin_files {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../templates/", $name)))),+]
    };
}

/// Every file the built-in matrix refers to.
const BUILTIN_FILES: &[(&str, &str)] = builtin_files!(
    "task_started.en.txt",
    "task_started.en.html",
    "task_started.lv.txt",
    "task_started.lv.html",
    "task_started.lt.txt",
    "task_started.lt.html",
    "task_started.et.txt",
    "task_started.et.html",
    "task_started.ru.txt",
    "task_started.ru.html",
    "process_started.en.txt",
    "process_started.en.html",
    "process_started.lv.txt",
    "process_started.lv.html",
    "process_started.lt.txt",
    "process_started.lt.html",
    "process_started.et.txt",
    "process_started.et.html",
    "process_started.ru.txt",
    "process_started.ru.html",
    "reminder.en.txt",
    "reminder.en.html",
    "reminder.lv.txt",
    "reminder.lv.html",
    "reminder.lt.txt",
    "reminder.lt.html",
    "reminder.et.txt",
    "reminder.et.html",
    "reminder.ru.txt",
    "reminder.ru.html",
    "declined.en.txt",
    "declined.en.html",
    "declined.lv.txt",
    "declined.lv.html",
    "declined.lt.txt",
    "declined.lt.html",
    "declined.et.txt",
    "declined.et.html",
    "declined.ru.txt",
    "declined.ru.html",
    "approver_approved.en.txt",
    "approver_approved.en.html",
    "approver_approved.lv.txt",
    "approver_approved.lv.html",
    "approver_approved.lt.txt",
    "approver_approved.lt.html",
    "approver_approved.et.txt",
    "approver_approved.et.html",
    "approver_approved.ru.txt",
    "approver_approved.ru.html",
    "process_canceled.en.txt",
    "process_canceled.en.html",
    "process_canceled.lv.txt",
    "process_canceled.lv.html",
    "process_canceled.lt.txt",
    "process_canceled.lt.html",
    "process_canceled.et.txt",
    "process_canceled.et.html",
    "process_canceled.ru.txt",
    "process_canceled.ru.html",
    "process_completed.en.txt",
    "process_completed.en.html",
    "process_completed.lv.txt",
    "process_completed.lv.html",
    "process_completed.lt.txt",
    "process_completed.lt.html",
    "process_completed.et.txt",
    "process_completed.et.html",
    "process_completed.ru.txt",
    "process_completed.ru.html",
    "failure.en.txt",
    "failure.en.html",
    "failure.lv.txt",
    "failure.lv.html",
    "failure.lt.txt",
    "failure.lt.html",
    "failure.et.txt",
    "failure.et.html",
    "failure.ru.txt",
    "failure.ru.html",
);

/// Reads a template file by its path relative to the matrix: `Ok(None)` when it does not
/// exist.
type Reader<'a> = dyn Fn(&str) -> Result<Option<String>, String> + 'a;

impl Matrix {
    /// The built-in matrix (English, Latvian, Lithuanian, Estonian and Russian, every event
    /// and role of PRODUCT.md section 7). An error here is a bug of this crate; the tests load it.
    pub fn builtin() -> Result<Self, MatrixError> {
        let read = |rel: &str| -> Result<Option<String>, String> {
            Ok(BUILTIN_FILES
                .iter()
                .find(|(name, _)| *name == rel)
                .map(|(_, text)| (*text).to_owned()))
        };
        Self::parse(
            BUILTIN_MATRIX,
            "built-in",
            &|rel| format!("built-in {rel}"),
            &read,
        )
    }

    /// Loads a matrix file. Template paths in it are relative to the file's directory.
    /// A file that cannot be read, is not valid TOML, names an unknown event or role, refers
    /// to a missing template file, or has a template that does not parse or render is an
    /// error naming the file and key.
    pub fn load(path: &Path) -> Result<Self, MatrixError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MatrixError {
            file: file.clone(),
            key: String::new(),
            message: format!("cannot read the file: {e}"),
        })?;
        let dir: PathBuf = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let full = |rel: &str| dir.join(rel);
        let read = |rel: &str| -> Result<Option<String>, String> {
            match std::fs::read_to_string(full(rel)) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot read {}: {e}", full(rel).display())),
            }
        };
        Self::parse(&text, &file, &|rel| full(rel).display().to_string(), &read)
    }

    /// `NOTIFICATIONS_FILE` when set, else the built-in matrix.
    pub fn from_config(path: Option<&Path>) -> Result<Self, MatrixError> {
        match path {
            Some(path) => Self::load(path),
            None => Self::builtin(),
        }
    }

    /// Where the matrix came from: its file path, or `built-in`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The fallback language (`default_language`, `en` unless the file says otherwise).
    pub fn default_language(&self) -> &str {
        self.default_language.as_str()
    }

    /// Every language tag the matrix has an entry in (for any event and role), sorted.
    pub fn languages(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .entries
            .values()
            .flat_map(|langs| langs.keys().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Whether some entry is written in `language`, exactly or by its primary subtag: a
    /// configured default language the matrix never uses is a mistake worth stopping for.
    pub fn has_language(&self, language: &Language) -> bool {
        let chain = fallback_chain([Some(language)]);
        self.languages().iter().any(|tag| chain.contains(tag))
    }

    /// The languages that send an email for `event` to `role`, sorted (empty when none).
    pub fn email_languages(&self, event: EventType, role: RecipientRole) -> Vec<&str> {
        self.entries
            .get(&(event, role))
            .into_iter()
            .flatten()
            .filter(|(_, entry)| matches!(entry, Entry::Email { .. }))
            .map(|(lang, _)| lang.as_str())
            .collect()
    }

    /// The language whose entry a recipient with `language` gets for `event` and `role`
    /// (`None` when the matrix does not list the event and role at all).
    pub fn language_for(
        &self,
        event: EventType,
        role: RecipientRole,
        language: Option<&Language>,
    ) -> Option<&str> {
        self.lookup(event, role, &[language]).map(|(lang, _)| lang)
    }

    /// Whether a recipient with `language` gets an email for `event` in `role` (the entry
    /// exists and its template is not blank).
    pub fn sends(
        &self,
        event: EventType,
        role: RecipientRole,
        language: Option<&Language>,
    ) -> bool {
        matches!(
            self.lookup(event, role, &[language]),
            Some((_, Entry::Email { .. }))
        )
    }

    /// Every `(event, role, language)` that sends an email, in key order.
    pub fn emails(&self) -> Vec<(EventType, RecipientRole, String)> {
        self.entries
            .iter()
            .flat_map(|((event, role), langs)| {
                langs
                    .iter()
                    .filter(|(_, entry)| matches!(entry, Entry::Email { .. }))
                    .map(|(lang, _)| (*event, *role, lang.clone()))
            })
            .collect()
    }

    /// The entry a recipient gets: the first of `preferences` (the recipient's language,
    /// then configured defaults; each exactly, then by primary subtag) that the matrix has,
    /// else the matrix's default language.
    pub(crate) fn lookup(
        &self,
        event: EventType,
        role: RecipientRole,
        preferences: &[Option<&Language>],
    ) -> Option<(&str, &Entry)> {
        let langs = self.entries.get(&(event, role))?;
        let candidates = fallback_chain(
            preferences
                .iter()
                .copied()
                .chain([Some(&self.default_language)]),
        );
        for candidate in candidates {
            if let Some((lang, entry)) = langs.get_key_value(candidate) {
                return Some((lang.as_str(), entry));
            }
        }
        None
    }

    /// The template environment.
    pub(crate) fn env(&self) -> &Environment<'static> {
        &self.env
    }

    fn parse(
        text: &str,
        file: &str,
        display: &dyn Fn(&str) -> String,
        read: &Reader<'_>,
    ) -> Result<Self, MatrixError> {
        let err = |key: &str, message: String| MatrixError {
            file: file.to_owned(),
            key: key.to_owned(),
            message,
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|span| text.get(..span.start).unwrap_or(text).matches('\n').count() + 1);
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            err(
                "",
                format!("not valid TOML{at}: {}", e.message().trim_end()),
            )
        })?;

        let default_language = match table.get("default_language") {
            None => Language::parse("en").map_err(|e| err("default_language", e.to_string()))?,
            Some(toml::Value::String(raw)) => {
                Language::parse(raw).map_err(|e| err("default_language", e.to_string()))?
            }
            Some(_) => {
                return Err(err(
                    "default_language",
                    "must be a string such as \"en\"".into(),
                ));
            }
        };

        let mut env = new_environment();
        let mut registered = HashSet::new();
        let mut entries: BTreeMap<(EventType, RecipientRole), BTreeMap<String, Entry>> =
            BTreeMap::new();

        for (event_key, roles) in &table {
            if event_key == "default_language" {
                continue;
            }
            let event: EventType = event_key.parse().map_err(|_| {
                err(
                    event_key,
                    "unknown event type; expected one such as TASK_STARTED, REMINDER or FAILURE"
                        .into(),
                )
            })?;
            let roles = roles
                .as_table()
                .ok_or_else(|| err(event_key, "must be a table of roles".into()))?;
            for (role_key, langs) in roles {
                let key = format!("{event_key}.{role_key}");
                let role: RecipientRole = role_key.parse().map_err(|_| {
                    err(
                        &key,
                        "unknown role; expected initiator, signer, approver, viewer or administrator"
                            .into(),
                    )
                })?;
                let langs = langs
                    .as_table()
                    .ok_or_else(|| err(&key, "must be a table of languages".into()))?;
                let mut cells = BTreeMap::new();
                for (lang_key, cell) in langs {
                    let key = format!("{event_key}.{role_key}.{lang_key}");
                    let lang = Language::parse(lang_key).map_err(|e| err(&key, e.to_string()))?;
                    let cell = cell.as_table().ok_or_else(|| {
                        err(&key, "must be a table with subject and template".into())
                    })?;
                    let entry = parse_entry(cell, &key, display, read, &mut env, &mut registered)
                        .map_err(|message| err(&key, message))?;
                    cells.insert(lang.as_str().to_owned(), entry);
                }
                if !cells.is_empty() && !cells.contains_key(default_language.as_str()) {
                    return Err(err(
                        &key,
                        format!("has no entry for the default language {default_language}"),
                    ));
                }
                entries.insert((event, role), cells);
            }
        }

        let matrix = Self {
            source: file.to_owned(),
            default_language,
            entries,
            env,
        };
        matrix
            .try_every_template()
            .map_err(|(key, message)| err(&key, message))?;
        Ok(matrix)
    }

    /// Renders every template once with a sample process (see [`context::sample`]).
    fn try_every_template(&self) -> Result<(), (String, String)> {
        let process = context::sample();
        let tz = TimeZone::UTC;
        let settings = ContextSettings {
            portal_url: "http://localhost:3000",
            timezone: &tz,
        };
        for ((event, role), langs) in &self.entries {
            let Some(intent) = context::sample_intent(&process, *event, *role) else {
                continue;
            };
            for (lang, entry) in langs {
                let Entry::Email {
                    subject,
                    text,
                    html,
                } = entry
                else {
                    continue;
                };
                let ctx = context::build(&intent, &process, lang, &settings);
                for name in [Some(subject), Some(text), html.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    self.env
                        .get_template(name)
                        .and_then(|t| t.render(&ctx))
                        .map_err(|e| {
                            (
                                format!("{event}.{role}.{lang}"),
                                format!("template {name} does not render: {e}"),
                            )
                        })?;
                }
            }
        }
        Ok(())
    }
}

fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Optional data (a signer, a due date) may be absent: render it as empty.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".htm") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    // A line holding only a block tag leaves no blank line behind.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    // HTML escaping of `& < > " '` only: minijinja's default also escapes `/`, which turns
    // every link into `https:&#x2f;&#x2f;…` (valid, but unreadable in the source).
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == AutoEscape::Html && !value.is_safe() {
            if let Some(text) = value.as_str() {
                return out.write_str(&escape_html(text)).map_err(Into::into);
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    env
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn parse_entry(
    cell: &toml::Table,
    key: &str,
    display: &dyn Fn(&str) -> String,
    read: &Reader<'_>,
    env: &mut Environment<'static>,
    registered: &mut HashSet<String>,
) -> Result<Entry, String> {
    if let Some(unknown) = cell.keys().find(|k| *k != "subject" && *k != "template") {
        return Err(format!(
            "unknown key {unknown}; an entry has subject and template"
        ));
    }
    let string = |name: &str| -> Result<Option<String>, String> {
        match cell.get(name) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{name} must be a string")),
        }
    };
    let template = string("template")?
        .ok_or_else(|| "has no template (write template = \"\" to send no email)".to_owned())?;
    let template = template.trim();
    if template.is_empty() {
        return Ok(Entry::Blank);
    }
    let subject = string("subject")?.unwrap_or_default();
    if subject.trim().is_empty() {
        return Err("has a template but no subject".into());
    }

    let text_name = format!("{template}.txt");
    let html_name = format!("{template}.html");
    let text = read(&text_name)?
        .ok_or_else(|| format!("template file {} not found", display(&text_name)))?;
    let html = read(&html_name)?;
    add(env, registered, &text_name, text)?;
    let html = match html {
        Some(source) => {
            add(env, registered, &html_name, source)?;
            Some(html_name)
        }
        None => None,
    };
    let subject_name = format!("{key}.subject");
    add(env, registered, &subject_name, subject)?;
    Ok(Entry::Email {
        subject: subject_name,
        text: text_name,
        html,
    })
}

fn add(
    env: &mut Environment<'static>,
    registered: &mut HashSet<String>,
    name: &str,
    source: String,
) -> Result<(), String> {
    if registered.insert(name.to_owned()) {
        env.add_template_owned(name.to_owned(), source)
            .map_err(|e| format!("template {name} does not parse: {e}"))?;
    }
    Ok(())
}
