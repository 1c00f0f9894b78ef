//! The domain's `Mailer` port: test emails (`sendTestEmail`) and subjects.

use std::sync::Arc;

use async_trait::async_trait;
use pas_domain::language::Language;
use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::ports::{MailError, Mailer, SentEmail, TestLanguages};
use pas_domain::process::ProcessData;
use pas_domain::status::{EventType, SignerRole, SigningStatus};

use crate::render::Renderer;
use crate::transport::Transport;

/// Sends emails right away, outside the outbox: what `sendTestEmail` needs.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    renderer: Arc<Renderer>,
    transport: Arc<Transport>,
}

impl SmtpMailer {
    /// A mailer sharing the dispatcher's renderer and transport.
    pub fn new(renderer: Arc<Renderer>, transport: Arc<Transport>) -> Self {
        Self {
            renderer,
            transport,
        }
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    /// Renders the matrix entry of `event` for `role` for every address of that role in
    /// `process` (the initiator: `processInitiatorEmail`; other roles: the entries of that
    /// role that have an email, whatever their `signerNotification`) and sends each at once,
    /// in the languages `languages` asks for (with `All`, one email per language of the
    /// entry to each address, in tag order). Stores nothing. `NoTemplate` when the matrix
    /// sends nothing for the event and role in its default language, `NoRecipient` when the
    /// role has no address, `Transport` on the first failed send (emails sent before it stay
    /// sent).
    async fn send_test(
        &self,
        process: ProcessData,
        event: EventType,
        role: RecipientRole,
        languages: TestLanguages,
    ) -> Result<Vec<SentEmail>, MailError> {
        if !self.renderer.matrix().sends(event, role, None) {
            return Err(MailError::NoTemplate { event, role });
        }
        let intents = test_intents(&process, event, role);
        if intents.is_empty() {
            return Err(MailError::NoRecipient(role));
        }
        let intents = self.in_languages(intents, &languages)?;
        let host = self.renderer.message_id_host().to_owned();
        let mut sent = Vec::new();
        for intent in &intents {
            let Some(rendered) = self.renderer.render(intent, &process)? else {
                continue;
            };
            let message_id = format!("<test-{}@{host}>", uuid::Uuid::now_v7());
            let message = self.renderer.message(&rendered, &message_id)?;
            self.transport
                .send(message)
                .await
                .map_err(|e| MailError::Transport(e.to_string()))?;
            tracing::info!(%event, %role, language = %rendered.language, process_id = %process.id, "test email sent");
            sent.push(SentEmail {
                to: rendered.to.as_str().to_owned(),
                subject: rendered.subject,
            });
        }
        Ok(sent)
    }

    fn subject(
        &self,
        intent: &NotificationIntent,
        process: &ProcessData,
    ) -> Result<Option<String>, MailError> {
        self.renderer.subject(intent, process)
    }
}

impl SmtpMailer {
    /// The intents with the languages `languages` asks for: unchanged (each recipient's
    /// own), every language of the matrix entry for each intent, or one language for all.
    fn in_languages(
        &self,
        intents: Vec<NotificationIntent>,
        languages: &TestLanguages,
    ) -> Result<Vec<NotificationIntent>, MailError> {
        let tags: Vec<Language> = match languages {
            TestLanguages::Recipients => return Ok(intents),
            TestLanguages::Only(language) => vec![language.clone()],
            TestLanguages::All => {
                let Some(first) = intents.first() else {
                    return Ok(intents);
                };
                self.renderer
                    .matrix()
                    .email_languages(first.event_type, first.role)
                    .into_iter()
                    .map(|tag| {
                        // The matrix keeps only tags that parsed when it loaded.
                        Language::parse(tag)
                            .map_err(|e| MailError::Render(format!("matrix language {tag}: {e}")))
                    })
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(intents
            .iter()
            .flat_map(|intent| {
                tags.iter().map(move |tag| NotificationIntent {
                    language: Some(tag.clone()),
                    ..intent.clone()
                })
            })
            .collect())
    }
}

/// One intent per distinct address of `role` in `process`.
fn test_intents(
    process: &ProcessData,
    event: EventType,
    role: RecipientRole,
) -> Vec<NotificationIntent> {
    let mut out: Vec<NotificationIntent> = Vec::new();
    if role == RecipientRole::Initiator {
        if let Some(to) = process.header.process_initiator_email.clone() {
            let own = process.entries().find(|e| {
                e.role() == SignerRole::Initiator && e.details.signer_email.as_ref() == Some(&to)
            });
            // The entry the email is about: the one that declined or approved, as far as the
            // posted process shows one.
            let about = match event {
                EventType::SignerDeclined | EventType::ApproverDeclined => process
                    .entries()
                    .find(|e| e.signing_status == SigningStatus::Declined)
                    .or_else(|| process.entries().find(|e| e.role().must_act())),
                EventType::ApproverApproved => process
                    .entries()
                    .find(|e| e.signing_status == SigningStatus::Approved)
                    .or_else(|| process.entries().find(|e| e.role() == SignerRole::Approver)),
                _ => None,
            };
            let step = about
                .and_then(|e| process.find_entry(e.id))
                .map(|(s, _)| s.id);
            out.push(NotificationIntent {
                event_type: event,
                role,
                to,
                language: own.and_then(|e| e.details.signer_language.clone()),
                process_id: process.id,
                step_id: step.or_else(|| process.current_step().map(|s| s.id)),
                signer_id: about.map(|e| e.id),
            });
        }
        return out;
    }
    for step in &process.steps {
        for entry in &step.entries {
            let Some(to) = entry.details.signer_email.clone() else {
                continue;
            };
            if RecipientRole::from(entry.role()) != role || out.iter().any(|i| i.to == to) {
                continue;
            }
            out.push(NotificationIntent {
                event_type: event,
                role,
                to,
                language: entry.details.signer_language.clone(),
                process_id: process.id,
                step_id: Some(step.id),
                signer_id: Some(entry.id),
            });
        }
    }
    out
}
