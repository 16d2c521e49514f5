//! The messages Consentry sends, as plain text. Each says which study and approval
//! it is about and how to withdraw.

use crate::domain::consent::ConsentRecord;
use crate::domain::focus_group::FocusGroup;
use crate::domain::mail::{Attachment, CODE, Message, PRIVATE_LINK};
use crate::domain::participant::WithdrawalScope;
use crate::domain::study::Study;

fn footer(study: &Study) -> String {
    format!(
        "\n--\n{title}\nApproved by the {committee}, reference {reference}.\n\
         Taking part is voluntary; you can withdraw at any time from your page.\n\
         Questions: {contact} <{email}>.\n",
        title = study.title,
        committee = study.ethics.committee,
        reference = study.ethics.reference,
        contact = study.contact_name,
        email = study.contact_email,
    )
}

/// How long a private link works, as mail says it.
fn lasting(days: i64) -> String {
    format!("It works for {days} days; you can ask for a new one on Consentry at any time.")
}

/// The private link for a person invited to a study.
pub fn invitation(study: &Study, to: &str, name: &str, link: &str, days: i64) -> Message {
    let why = format!("Thank you for your interest in the study \"{}\".", study.title);
    first_link(
        study,
        to,
        name,
        link,
        days,
        (format!("Your link for the study \"{}\"", study.title), why),
    )
}

/// The private link for a person who, consenting to `earlier`, agreed to be
/// contacted about future studies.
pub fn future_study_invitation(
    study: &Study,
    earlier: &Study,
    to: &str,
    name: &str,
    link: &str,
    days: i64,
) -> Message {
    let why = format!(
        "When you took part in the study \"{}\", you agreed to be contacted about future \
         studies. The researchers invite you to a new one: \"{}\". Taking part is entirely \
         your choice; if you do nothing, nothing happens.",
        earlier.title, study.title
    );
    first_link(study, to, name, link, days, (format!("A new study: \"{}\"", study.title), why))
}

/// A person's first private link to `study`, with the subject and the opening
/// paragraph that say why it came.
fn first_link(
    study: &Study,
    to: &str,
    name: &str,
    link: &str,
    days: i64,
    (subject, why): (String, String),
) -> Message {
    Message {
        study_id: Some(study.id),
        kind: "invitation",
        to: to.to_string(),
        subject,
        body: format!(
            "Dear {name},\n\n{why}\n\n\
             Your private link is below. It opens your own page, where you can read the \
             explanatory statement and decide whether to take part. Keep it to yourself: \
             anyone with it can act as you in this study. {lasting}\n\n{link}\n{footer}",
            lasting = lasting(days),
            footer = footer(study),
        ),
        attachment: None,
        secrets: Vec::new(),
    }
    .with_secret(link, PRIVATE_LINK)
}

/// A new link, asked for by the participant (or sent when their address was given
/// again); the links they hold already keep working.
pub fn new_link(study: &Study, to: &str, name: &str, link: &str, days: i64) -> Message {
    Message {
        study_id: Some(study.id),
        kind: "new_link",
        to: to.to_string(),
        subject: format!("A new link for the study \"{}\"", study.title),
        body: format!(
            "Dear {name},\n\nSomeone (we hope you) asked for a new link to your page in the \
             study \"{title}\". Here it is; the links we sent you before still work. {lasting}\n\n\
             {link}\n\nIf you did not ask for it, you can ignore this message: nothing has \
             changed, and only this address receives your links.\n{footer}",
            title = study.title,
            lasting = lasting(days),
            footer = footer(study),
        ),
        attachment: None,
        secrets: Vec::new(),
    }
    .with_secret(link, PRIVATE_LINK)
}

/// A reminder of the steps a participant has not finished, with a fresh link.
pub fn reminder(
    study: &Study,
    to: &str,
    name: &str,
    link: &str,
    days: i64,
    steps: &[String],
) -> Message {
    let list: Vec<String> = steps.iter().map(|s| format!("  - {s}")).collect();
    Message {
        study_id: Some(study.id),
        kind: "reminder",
        to: to.to_string(),
        subject: format!("A reminder about the study \"{}\"", study.title),
        body: format!(
            "Dear {name},\n\nThis is a friendly reminder about the study \"{title}\". \
             When you have a moment, these steps are still open:\n\n{steps}\n\n\
             Your link is below (the ones we sent before still work too). {lasting} Taking \
             part is voluntary: if you would rather not continue, you can withdraw from your \
             page at any time, and we will not remind you again.\n\n{link}\n{footer}",
            title = study.title,
            steps = list.join("\n"),
            lasting = lasting(days),
            footer = footer(study),
        ),
        attachment: None,
        secrets: Vec::new(),
    }
    .with_secret(link, PRIVATE_LINK)
}

/// The code of the identity check before signing.
pub fn identity_code(study: &Study, to: &str, code: &str, minutes: i64) -> Message {
    Message {
        study_id: Some(study.id),
        kind: "identity_code",
        to: to.to_string(),
        subject: format!("Your code for \"{}\": {code}", study.title),
        body: format!(
            "Your code is {code}.\n\nEnter it on the consent page within {minutes} minutes. If \
             you did not ask for it, you can ignore this message.\n{footer}",
            footer = footer(study),
        ),
        attachment: None,
        secrets: Vec::new(),
    }
    .with_secret(code, CODE)
}

/// The participant's copy of their signed consent, with the PDF attached.
pub fn consent_receipt(
    study: &Study,
    to: &str,
    record: &ConsentRecord,
    record_sha256: &str,
    pdf: &[u8],
) -> Message {
    let agreed: Vec<String> = record
        .items
        .iter()
        .map(|i| format!("  [{}] {}", if i.agreed { "x" } else { " " }, i.text))
        .collect();
    let (what, opening) = match record.amends {
        None => ("Your signed consent", "Thank you. Your consent to take part was recorded"),
        Some(_) => (
            "Your changed consent choices",
            "Your change to the optional choices of your consent was recorded",
        ),
    };
    Message {
        study_id: Some(study.id),
        kind: "consent_receipt",
        to: to.to_string(),
        subject: format!("{what} for \"{}\" ({})", study.title, record.participant_code),
        body: format!(
            "{opening} on {signed_at} (UTC).\n\n\
             Participant code: {code}\nConsent form: version {version}\nSigned as: {name}\n\n\
             What you agreed to:\n{items}\n\n\
             Your signed copy is attached (PDF). Its record fingerprint is\n{hash}\n{footer}",
            signed_at = record.signed_at,
            code = record.participant_code,
            version = record.form_version,
            name = record.typed_name,
            items = agreed.join("\n"),
            hash = record_sha256,
            footer = footer(study),
        ),
        attachment: Some(Attachment {
            name: format!("consent-{}-{}.pdf", study.slug, record.participant_code),
            content_type: "application/pdf".into(),
            bytes: pdf.to_vec(),
        }),
        secrets: Vec::new(),
    }
}

/// Confirmation of a withdrawal; `calendar` cancels the focus group they had been
/// invited to, so it leaves their calendar too.
pub fn withdrawal(
    study: &Study,
    to: &str,
    scope: WithdrawalScope,
    calendar: Option<String>,
) -> Message {
    let what = match scope {
        WithdrawalScope::FutureOnly => {
            "You will not be contacted again. What you have already given stays in the study."
        }
        WithdrawalScope::WithdrawData => {
            "You will not be contacted again, and your answers are removed from the study's results \
             (what was said in a focus group stays in that group's transcript)."
        }
    };
    Message {
        study_id: Some(study.id),
        kind: "withdrawal",
        to: to.to_string(),
        subject: format!("You have withdrawn from \"{}\"", study.title),
        body: format!(
            "This confirms that you have withdrawn from the study \"{title}\".\n\n{what}\n\n\
             Your signed consent stays on record, as the ethics approval requires. \
             Withdrawing has no consequence for your studies.{removed}\n{footer}",
            title = study.title,
            removed = if calendar.is_some() {
                "\n\nThe attached file removes your focus group from your calendar."
            } else {
                ""
            },
            footer = footer(study),
        ),
        attachment: calendar.map(|text| Attachment {
            name: "cancel.ics".into(),
            content_type: "text/calendar; method=CANCEL; charset=UTF-8".into(),
            bytes: text.into_bytes(),
        }),
        secrets: Vec::new(),
    }
}

fn session_lines(study: &Study, group: &FocusGroup) -> String {
    format!(
        "  When:  {when}\n  Where: {location}\n  Facilitator: {facilitator}",
        when = crate::domain::focus_group::when(group, study.timezone),
        location = group.location,
        facilitator = group.facilitator_name,
    )
}

/// Why a member of a focus group is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionNotice {
    /// The invitation, with the calendar event (`METHOD:REQUEST`).
    Invitation,
    /// The session's time, length, place or title changed: the updated event.
    Update,
    /// The member is no longer expected (removed, or the session cancelled):
    /// `METHOD:CANCEL`.
    Cancellation,
    /// The server's reminder the day before; no attachment.
    Reminder,
}

impl SessionNotice {
    /// The outbox kind, by which (for reminders) a queued message is withdrawn.
    pub fn kind(self) -> &'static str {
        match self {
            SessionNotice::Invitation => "focus_group_invitation",
            SessionNotice::Update => "focus_group_update",
            SessionNotice::Cancellation => "focus_group_cancellation",
            SessionNotice::Reminder => FOCUS_GROUP_REMINDER,
        }
    }
}

/// The kind of the reminder message, by which a queued reminder is cancelled.
pub const FOCUS_GROUP_REMINDER: &str = "focus_group_reminder";

/// What the member hears about recording: `NotRecorded` when their consent
/// declined the item that governs audio recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recording {
    AsAgreed,
    NotRecorded,
}

/// A message to one member of a focus group — never a shared list — with the
/// session's calendar file when `ics` is given.
pub fn focus_group(
    study: &Study,
    to: &str,
    first_name: &str,
    group: &FocusGroup,
    notice: SessionNotice,
    recording: Recording,
    ics: Option<String>,
) -> Message {
    let (subject, intro, outro) = match notice {
        SessionNotice::Invitation => (
            "Invitation",
            "Thank you for offering to join a focus group for the study \"{title}\". You are invited to:",
            "The attached calendar file adds it to your calendar. We will remind you the day \
             before. If you can no longer come, or no longer wish to take part, tell us or \
             withdraw from your page; you do not need to give a reason.",
        ),
        SessionNotice::Update => (
            "Changed",
            "The focus group you are invited to for the study \"{title}\" has changed. It is now:",
            "The attached file updates the event in your calendar. If the new time does not \
             suit you, please tell us; taking part is voluntary.",
        ),
        SessionNotice::Cancellation => (
            "Cancelled",
            "You are no longer booked for this focus group of the study \"{title}\":",
            "The attached file removes it from your calendar. If this is unexpected, please \
             contact us.",
        ),
        SessionNotice::Reminder => (
            "Reminder",
            "A reminder that your focus group for the study \"{title}\" is coming up:",
            "If you can no longer come, please let us know. Taking part is voluntary.",
        ),
    };
    let method = if notice == SessionNotice::Cancellation { "CANCEL" } else { "REQUEST" };
    let recording = match (recording, notice) {
        (Recording::NotRecorded, SessionNotice::Cancellation) | (Recording::AsAgreed, _) => "",
        (Recording::NotRecorded, _) => {
            "\nYou did not agree to audio recording: the facilitator knows, and nothing is \
             recorded while you take part (they take written notes instead).\n"
        }
    };
    Message {
        study_id: Some(study.id),
        kind: notice.kind(),
        to: to.to_string(),
        subject: format!("{subject}: {} ({})", group.title, study.title),
        body: format!(
            "Dear {first_name},\n\n{intro}\n\n  {group}\n{session}\n\n{outro}\n{recording}{footer}",
            intro = intro.replace("{title}", &study.title),
            group = group.title,
            session = session_lines(study, group),
            footer = footer(study),
        ),
        attachment: ics.map(|text| Attachment {
            name: if method == "CANCEL" { "cancel.ics" } else { "invite.ics" }.into(),
            content_type: format!("text/calendar; method={method}; charset=UTF-8"),
            bytes: text.into_bytes(),
        }),
        secrets: Vec::new(),
    }
}

/// The study's results summary, for a participant who asked for it at consent.
pub fn results_summary(study: &Study, to: &str, first_name: &str, summary: &str) -> Message {
    Message {
        study_id: Some(study.id),
        kind: "results_summary",
        to: to.to_string(),
        subject: format!("Results of the study \"{}\"", study.title),
        body: format!(
            "Dear {first_name},\n\nWhen you gave your consent to the study \"{title}\", you \
             asked for a summary of its results. The study has now closed; here is the \
             summary from the researchers.\n\n{summary}\n\nThank you for taking part.\n{footer}",
            title = study.title,
            footer = footer(study),
        ),
        attachment: None,
        secrets: Vec::new(),
    }
}

/// A signed audit checkpoint for the ethics office to keep, as the attached JSON line.
pub fn checkpoint(to: &str, at: &str, chains: usize, line: &str) -> Message {
    Message {
        study_id: None,
        kind: "audit_checkpoint",
        to: to.to_string(),
        subject: format!("Consentry audit checkpoint {at}"),
        body: format!(
            "The attached file is a signed checkpoint of Consentry's audit trail: the head \
             of each of its {chains} chains at {at} (UTC), signed with the server's audit key.\n\n\
             Keep this message, or save the attachment with the others, where the database's \
             administrators cannot change it. With the checkpoints and the public key, \
             `consentry verify-audit --checkpoints FOLDER --public-key audit.key.pub` proves \
             that no event before them was rewritten, removed or cut off.\n"
        ),
        attachment: Some(Attachment {
            name: format!("checkpoint-{}.jsonl", at.replace([':', '.'], "-")),
            content_type: "application/json".into(),
            bytes: format!("{line}\n").into_bytes(),
        }),
        secrets: Vec::new(),
    }
}

/// A one-time link to set a staff account's password: for a new account, or one
/// an admin reset. Staff reading the outbox see `[private link]`.
pub fn password_link(to: &str, name: &str, link: &str, hours: i64, new_account: bool) -> Message {
    let why = if new_account {
        "An administrator has made you a Consentry staff account. Choose your password \
         with this link"
    } else {
        "An administrator asked for your Consentry password to be set again. Choose a new \
         password with this link"
    };
    Message {
        study_id: None,
        kind: "password_link",
        to: to.to_string(),
        subject: "Set your Consentry password".to_string(),
        body: format!(
            "Dear {name},\n\n{why}; it works once, for {hours} hours:\n\n{link}\n\n\
             Setting the password signs you out everywhere else. If you did not expect this \
             message, tell your administrator.\n"
        ),
        attachment: None,
        secrets: Vec::new(),
    }
    .with_secret(link, PRIVATE_LINK)
}
