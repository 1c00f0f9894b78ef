//! Rendering an outbox row into an email: a notification from the matrix, or the audit
//! checkpoint email as plain text.

use jiff::tz::TimeZone;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use pas_domain::language::Language;
use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::outbox::CheckpointMail;
use pas_domain::ports::MailError;
use pas_domain::process::ProcessData;
use pas_domain::values::Email;

use crate::context::{self, ContextSettings};
use crate::matrix::{Entry, Matrix};

/// What every email shares: `MAIL_FROM`, `MAIL_REPLY_TO_INITIATOR`, `PORTAL_URL`,
/// `APP_TIMEZONE` and `MAIL_DEFAULT_LANGUAGE` (PRODUCT.md section 3).
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `MAIL_FROM`, e.g. `Signing Service <noreply@example.lv>`; its domain is also the host
    /// part of every `Message-ID`. Parse it with `"…".parse::<Mailbox>()`.
    pub from: Mailbox,
    /// `MAIL_REPLY_TO_INITIATOR`: set `Reply-To` to the process's `processInitiatorEmail`.
    pub reply_to_initiator: bool,
    /// `PORTAL_URL`; a signer's link is `{portal_url}/process/{signerId}` (a trailing slash
    /// is ignored).
    pub portal_url: String,
    /// `APP_TIMEZONE`: due dates are shown in it.
    pub timezone: TimeZone,
    /// `MAIL_DEFAULT_LANGUAGE`: the language of a recipient without a `signerLanguage`, or
    /// with one the matrix has no entry in; after it comes the matrix's own
    /// `default_language` (`en` in the built-in matrix).
    pub default_language: Language,
}

/// A rendered email, before it becomes a `lettre` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Recipient address.
    pub to: Email,
    /// Recipient display name (the entry's `signerName`, or the `initiatorName`).
    pub to_name: Option<String>,
    /// Subject, on one line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (HTML-escaped values), when the matrix entry has an HTML template.
    pub html: Option<String>,
    /// `Reply-To`, when `reply_to_initiator` is set and the process has an initiator email.
    pub reply_to: Option<Email>,
    /// The language of the matrix entry used.
    pub language: String,
}

/// Renders intents with the matrix and builds the messages.
#[derive(Debug)]
pub struct Renderer {
    matrix: Matrix,
    settings: MailSettings,
}

impl Renderer {
    /// A renderer for `matrix` with `settings`.
    pub fn new(matrix: Matrix, mut settings: MailSettings) -> Self {
        settings.portal_url = settings.portal_url.trim_end_matches('/').to_owned();
        Self { matrix, settings }
    }

    /// The matrix.
    pub fn matrix(&self) -> &Matrix {
        &self.matrix
    }

    /// The settings.
    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    /// The host part of `Message-ID`s: the domain of `MAIL_FROM`.
    pub fn message_id_host(&self) -> &str {
        self.settings.from.email.domain()
    }

    /// Renders the email of `intent` about `process`; `Ok(None)` when the matrix sends
    /// nothing for the intent's event, role and language (a blank or absent entry).
    pub fn render(
        &self,
        intent: &NotificationIntent,
        process: &ProcessData,
    ) -> Result<Option<Rendered>, MailError> {
        let Some((language, subject, text, html)) = self.templates(intent) else {
            return Ok(None);
        };
        let ctx = self.context(intent, process, language);
        let render = |name: &str| -> Result<String, MailError> {
            self.matrix
                .env()
                .get_template(name)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| MailError::Render(format!("{name}: {e}")))
        };
        let subject = one_line(&render(subject)?);
        let text = render(text)?;
        let html = html.map(render).transpose()?;
        let reply_to = if self.settings.reply_to_initiator {
            process.header.process_initiator_email.clone()
        } else {
            None
        };
        Ok(Some(Rendered {
            to: intent.to.clone(),
            to_name: recipient_name(intent, process),
            subject,
            text,
            html,
            reply_to,
            language: language.to_owned(),
        }))
    }

    /// The audit checkpoint email (PRODUCT.md section 11): plain text, no matrix (there is
    /// no process to render and the text is for an auditor, in English). The subject names
    /// the checkpoint's time; the body carries `{createdAt, chainCount, root}` as JSON, the
    /// same as `GET /audit-checkpoint`, and how to use it.
    pub fn checkpoint(&self, mail: &CheckpointMail) -> Result<Rendered, MailError> {
        let summary = &mail.checkpoint;
        let created_at = summary
            .created_at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| MailError::Render(format!("checkpoint time: {e}")))?;
        let json = serde_json::to_string_pretty(summary)
            .map_err(|e| MailError::Render(format!("checkpoint: {e}")))?;
        let text = format!(
            "The audit checkpoint of {created_at}:\n\n{json}\n\n\
             Keep this email outside the service. The root is the SHA-256 over the length and \
             the last hash of each of the {count} non-empty audit chains at that moment: a \
             checkpoint file of `app audit checkpoint` taken then has the same root, so this \
             email shows that such a file is the one published. With that file, \
             `app audit verify --checkpoint FILE` proves that no chain was shortened or \
             rewritten since.\n",
            count = summary.chain_count,
        );
        Ok(Rendered {
            to: mail.to.clone(),
            to_name: None,
            subject: format!("Audit checkpoint {created_at}"),
            text,
            html: None,
            reply_to: None,
            language: "en".to_owned(),
        })
    }

    /// Only the subject of the email of `intent` (`None` when suppressed).
    pub fn subject(
        &self,
        intent: &NotificationIntent,
        process: &ProcessData,
    ) -> Result<Option<String>, MailError> {
        let Some((language, subject, _, _)) = self.templates(intent) else {
            return Ok(None);
        };
        let ctx = self.context(intent, process, language);
        self.matrix
            .env()
            .get_template(subject)
            .and_then(|t| t.render(&ctx))
            .map(|s| Some(one_line(&s)))
            .map_err(|e| MailError::Render(format!("{subject}: {e}")))
    }

    /// The message: `From` = `MAIL_FROM`, `To`, `Reply-To` (when rendered with one),
    /// `Subject`, `Message-ID` = `message_id` (e.g. [`OutboxMessage::message_id`] of the row,
    /// the same on every attempt), and a `multipart/alternative` body of the text and HTML
    /// parts (plain text only when the entry has no HTML template).
    ///
    /// [`OutboxMessage::message_id`]: pas_domain::ports::OutboxMessage::message_id
    pub fn message(&self, rendered: &Rendered, message_id: &str) -> Result<Message, MailError> {
        let build = |e: String| MailError::Render(format!("cannot build the message: {e}"));
        let to = mailbox(rendered.to_name.clone(), &rendered.to)
            .map_err(|e| build(format!("recipient address: {e}")))?;
        let mut builder = Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(message_id.to_owned()));
        if let Some(reply_to) = &rendered.reply_to {
            let reply_to =
                mailbox(None, reply_to).map_err(|e| build(format!("reply-to address: {e}")))?;
            builder = builder.reply_to(reply_to);
        }
        let message = match &rendered.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(rendered.text.clone()),
        };
        message.map_err(|e| build(e.to_string()))
    }

    fn templates(&self, intent: &NotificationIntent) -> Option<(&str, &str, &str, Option<&str>)> {
        let preferences = [
            intent.language.as_ref(),
            Some(&self.settings.default_language),
        ];
        match self
            .matrix
            .lookup(intent.event_type, intent.role, &preferences)?
        {
            (_, Entry::Blank) => None,
            (
                language,
                Entry::Email {
                    subject,
                    text,
                    html,
                },
            ) => Some((language, subject, text, html.as_deref())),
        }
    }

    fn context(
        &self,
        intent: &NotificationIntent,
        process: &ProcessData,
        language: &str,
    ) -> serde_json::Value {
        let settings = ContextSettings {
            portal_url: &self.settings.portal_url,
            timezone: &self.settings.timezone,
        };
        context::build(intent, process, language, &settings)
    }
}

fn mailbox(name: Option<String>, email: &Email) -> Result<Mailbox, String> {
    let address = email
        .as_str()
        .parse()
        .map_err(|e: lettre::address::AddressError| e.to_string())?;
    Ok(Mailbox::new(
        name.map(|n| one_line(&n)).filter(|n| !n.is_empty()),
        address,
    ))
}

fn recipient_name(intent: &NotificationIntent, process: &ProcessData) -> Option<String> {
    if intent.role == RecipientRole::Initiator {
        return process.header.initiator_name.clone();
    }
    context::recipient_entry(intent, process).and_then(|(_, e)| e.details.signer_name.clone())
}

/// Collapses whitespace, line breaks included: a header is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
