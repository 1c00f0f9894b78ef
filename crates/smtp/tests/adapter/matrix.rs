//! Loading the notification matrix: the built-in one, operator files, and bad files.

use std::path::Path;

use pas_domain::language::Language;
use pas_domain::notify::RecipientRole::{self, *};
use pas_domain::status::EventType::{self, *};
use pas_smtp::{Matrix, MatrixError};

/// Every (event, role) PRODUCT.md section 7 lists for the built-in set.
const SECTION_7: &[(EventType, RecipientRole)] = &[
    (TaskStarted, Signer),
    (TaskStarted, Approver),
    (TaskStarted, Viewer),
    (ProcessStarted, Initiator),
    (Reminder, Signer),
    (Reminder, Approver),
    (SignerDeclined, Initiator),
    (SignerDeclined, Signer),
    (ApproverDeclined, Initiator),
    (ApproverDeclined, Approver),
    (ApproverApproved, Initiator),
    (ProcessCanceled, Initiator),
    (ProcessCanceled, Signer),
    (ProcessCanceled, Approver),
    (ProcessCanceled, Viewer),
    (ProcessCanceled, Administrator),
    (ProcessCompleted, Initiator),
    (ProcessCompleted, Signer),
    (ProcessCompleted, Viewer),
    (Failure, Administrator),
];

fn lang(tag: &str) -> Language {
    Language::parse(tag).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A directory with a one-entry matrix file (`body`) and a valid template `t.txt`/`t.html`.
fn matrix_dir(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "t.txt", "Hello {{ signer.signerName }}\n");
    write(
        dir.path(),
        "t.html",
        "<p>Hello {{ signer.signerName }}</p>\n",
    );
    write(dir.path(), "matrix.toml", body);
    dir
}

fn load_err(body: &str) -> MatrixError {
    let dir = matrix_dir(body);
    Matrix::load(&dir.path().join("matrix.toml")).expect_err("the matrix is refused")
}

#[test]
fn builtin_matrix_loads_and_covers_every_section_7_event_and_role_in_every_language() {
    let matrix = Matrix::builtin().expect("the built-in matrix loads");
    assert_eq!(matrix.default_language(), "en");
    assert_eq!(matrix.source(), "built-in");
    let emails = matrix.emails();
    for (event, role) in SECTION_7 {
        for language in ["en", "lv", "lt", "et", "ru"] {
            assert!(
                emails.contains(&(*event, *role, language.to_owned())),
                "{event}.{role}.{language} is missing"
            );
        }
    }
    assert_eq!(
        emails.len(),
        SECTION_7.len() * 5,
        "nothing beyond section 7"
    );
}

#[test]
fn recipient_language_picks_the_entry_lv_exactly_en_gb_by_primary_subtag_unknown_by_default() {
    let matrix = Matrix::builtin().unwrap();
    let pick = |tag: Option<&str>| {
        matrix
            .language_for(TaskStarted, Signer, tag.map(lang).as_ref())
            .map(str::to_owned)
    };
    assert_eq!(pick(Some("lv")).as_deref(), Some("lv"));
    assert_eq!(pick(Some("en-GB")).as_deref(), Some("en"));
    assert_eq!(pick(Some("lv-LV")).as_deref(), Some("lv"));
    assert_eq!(pick(Some("lt-LT")).as_deref(), Some("lt"));
    assert_eq!(pick(Some("et")).as_deref(), Some("et"));
    assert_eq!(pick(Some("ru-LV")).as_deref(), Some("ru"));
    assert_eq!(
        matrix.languages(),
        ["en", "et", "lt", "lv", "ru"],
        "every language of the built-in matrix"
    );
    assert_eq!(pick(Some("fr")).as_deref(), Some("en"));
    assert_eq!(pick(None).as_deref(), Some("en"));
}

#[test]
fn an_event_the_matrix_does_not_list_sends_nothing() {
    let matrix = Matrix::builtin().unwrap();
    assert!(!matrix.sends(SignerSigned, Initiator, None));
    assert!(!matrix.sends(TaskStarted, Initiator, None));
    assert_eq!(matrix.language_for(SignerSigned, Initiator, None), None);
}

#[test]
fn operator_matrix_reads_templates_relative_to_its_directory_and_honours_default_language() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("lv")).unwrap();
    write(dir.path(), "lv/task.txt", "Sveiki\n");
    write(dir.path(), "task.txt", "Hello\n");
    write(
        dir.path(),
        "matrix.toml",
        r#"
default_language = "lv"
[TASK_STARTED.signer.lv]
subject = "Parakstiet {{ process.documentName }}"
template = "lv/task"
[TASK_STARTED.signer.en]
subject = "Sign {{ process.documentName }}"
template = "task"
[TASK_STARTED.viewer.lv]
subject = ""
template = ""
"#,
    );
    // Loaded from another working directory: paths are relative to the file, not the cwd.
    let matrix = Matrix::load(&dir.path().join("matrix.toml")).expect("loads");
    assert_eq!(matrix.default_language(), "lv");
    assert_eq!(
        matrix.language_for(TaskStarted, Signer, Some(&lang("de"))),
        Some("lv")
    );
    assert_eq!(
        matrix.language_for(TaskStarted, Signer, Some(&lang("en-US"))),
        Some("en")
    );
    assert!(!matrix.sends(TaskStarted, Viewer, None), "blank template");
}

#[test]
fn malformed_toml_is_refused_naming_the_file_and_line() {
    let err = load_err("[TASK_STARTED.signer.en\nsubject = 1\n");
    assert!(err.file.ends_with("matrix.toml"), "{err}");
    assert!(err.message.contains("not valid TOML"), "{err}");
    assert!(err.message.contains("line 1"), "{err}");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
}

#[test]
fn unknown_event_key_is_refused_naming_the_key() {
    let err = load_err("[TASK_BEGAN.signer.en]\nsubject = \"x\"\ntemplate = \"t\"\n");
    assert_eq!(err.key, "TASK_BEGAN");
    assert!(err.message.contains("unknown event type"), "{err}");
    assert!(err.to_string().contains("key TASK_BEGAN"), "{err}");
}

#[test]
fn unknown_role_key_is_refused_naming_the_key() {
    let err = load_err("[TASK_STARTED.signatory.en]\nsubject = \"x\"\ntemplate = \"t\"\n");
    assert_eq!(err.key, "TASK_STARTED.signatory");
    assert!(err.message.contains("unknown role"), "{err}");
}

#[test]
fn unknown_entry_field_and_missing_subject_are_refused() {
    let err = load_err("[TASK_STARTED.signer.en]\nsubjct = \"x\"\ntemplate = \"t\"\n");
    assert_eq!(err.key, "TASK_STARTED.signer.en");
    assert!(err.message.contains("unknown key subjct"), "{err}");
    let err = load_err("[TASK_STARTED.signer.en]\ntemplate = \"t\"\n");
    assert!(err.message.contains("no subject"), "{err}");
}

#[test]
fn missing_template_file_is_refused_naming_the_key_and_path() {
    let err = load_err("[REMINDER.signer.en]\nsubject = \"x\"\ntemplate = \"nowhere/reminder\"\n");
    assert_eq!(err.key, "REMINDER.signer.en");
    assert!(err.message.contains("not found"), "{err}");
    assert!(err.message.contains("reminder.txt"), "{err}");
}

#[test]
fn template_with_bad_syntax_is_refused_naming_the_key_and_template() {
    let dir = matrix_dir("[TASK_STARTED.signer.en]\nsubject = \"x\"\ntemplate = \"bad\"\n");
    write(dir.path(), "bad.txt", "Hello {% if signer %}\n");
    let err = Matrix::load(&dir.path().join("matrix.toml")).unwrap_err();
    assert_eq!(err.key, "TASK_STARTED.signer.en");
    assert!(err.message.contains("bad.txt does not parse"), "{err}");
}

#[test]
fn subject_with_bad_syntax_or_unknown_filter_is_refused_at_load() {
    let err = load_err(
        "[TASK_STARTED.signer.en]\nsubject = \"{{ process.documentName \"\ntemplate = \"t\"\n",
    );
    assert_eq!(err.key, "TASK_STARTED.signer.en");
    assert!(err.message.contains("does not parse"), "{err}");

    let err = load_err(
        "[TASK_STARTED.signer.en]\nsubject = \"{{ process.documentName | shout }}\"\ntemplate = \"t\"\n",
    );
    assert_eq!(err.key, "TASK_STARTED.signer.en");
    assert!(err.message.contains("does not render"), "{err}");
}

#[test]
fn an_event_and_role_without_the_default_language_is_refused() {
    let err = load_err("[TASK_STARTED.signer.lv]\nsubject = \"x\"\ntemplate = \"t\"\n");
    assert_eq!(err.key, "TASK_STARTED.signer");
    assert!(err.message.contains("default language en"), "{err}");
}

#[test]
fn unreadable_matrix_file_is_refused_naming_it() {
    let err = Matrix::load(Path::new("/nonexistent/notifications.toml")).unwrap_err();
    assert_eq!(err.file, "/nonexistent/notifications.toml");
    assert!(err.message.contains("cannot read"), "{err}");
}
