//! Consent pages: the participant signing (typed name, optional drawn signature,
//! the identity check) and withdrawing, without JavaScript; staff approving a
//! version, previewing it and reading a signed PDF.

use std::collections::BTreeMap;

use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::{ContentType, CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};

use super::views::FormView;
use super::views::Refusal;
use super::views::StaffFrame;
use super::views::consent::{
    ChoicesPage, ConsentPage, DraftPage, Entered, HistoryLine, IdentityBox, LanguageLink,
    ReceiptPage, ReviewBox, ReviewPage, StoryPage, SummaryPage, WithdrawPage,
};
use super::{names_hidden, outcome, participant_frame};
use crate::domain::FieldErrors;
use crate::domain::consent::{ConsentFormDraft, ItemInput, ReviewInput, SignRequest};
use crate::error::AppError;
use crate::forms::consent::draft_from_str;
use crate::service::consent::LanguageChoice;
use crate::service::{AppState, consent, study};
use crate::web::errors::{PageError, PageResult};
use crate::web::guards::{
    CsrfForm, CsrfToken, Language, ParticipantUser, REVEAL_MINUTES, SessionUser, set_revealed,
};
use crate::web::html::page::Page;

page_form! {
    pub struct ApproveForm {
        approval_reference: String,
        approved_on: String,
        /// Which language's text is approved.
        language: String,
    }
}

/// An ethics officer approves a draft under the study's reference or an amendment's
/// (empty fields: the study's reference, today).
#[post("/staff/studies/<slug>/consent-forms/<version>/approve", data = "<form>")]
async fn approve_form(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    version: &str,
    form: CsrfForm<ApproveForm>,
) -> PageResult<Flash<Redirect>> {
    let (study, _) = study::get(state, &session.user, slug).await?;
    let f = form.0;
    let reference = Some(f.approval_reference.trim()).filter(|r| !r.is_empty());
    let reference = reference.unwrap_or(&study.ethics.reference).to_string();
    let approved_on = Some(f.approved_on.trim()).filter(|d| !d.is_empty());
    let approved_on =
        approved_on.map_or_else(|| Utc::now().date_naive().to_string(), str::to_string);
    let language = Some(f.language.trim()).filter(|l| !l.is_empty());
    let result = consent::form::approve(
        state,
        &session.user,
        slug,
        version,
        language,
        &reference,
        &approved_on,
    )
    .await;
    outcome(slug, result, |f| {
        format!(
            "Consent form version {} ({}) is now active under {reference}.",
            f.version, f.language
        )
    })
}

/// A draft beside the version in force: the statement line by line and the items,
/// with the approval form for ethics officers.
#[get("/staff/studies/<slug>/consent-forms/<version>/review?<language>")]
async fn review(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    version: &str,
    language: Option<&str>,
) -> PageResult<Page> {
    use crate::domain::consent::language::same_tag;
    let (study, capacity) = study::get(state, &session.user, slug).await?;
    let forms = consent::form::list(state, &session.user, slug).await?;
    let draft = forms
        .iter()
        .find(|f| f.version == version && language.is_none_or(|l| same_tag(&f.language, l)))
        .ok_or(AppError::NotFound)?;
    // Compared with the text in force in the same language, else its first text.
    let in_force = |f: &&crate::domain::consent::ConsentForm| {
        f.state == crate::domain::consent::FormState::Active
    };
    let active = forms
        .iter()
        .filter(in_force)
        .find(|f| same_tag(&f.language, &draft.language))
        .or_else(|| forms.iter().find(in_force));
    let (_, history) = study::approvals(state, &session.user, slug).await?;
    let frame = StaffFrame::new(&session.user, csrf.0, None);
    let page = ReviewPage::new(frame, &study, capacity, draft, active, &history);
    Ok(Page::render("consent/review", page))
}

#[get("/staff/studies/<slug>/consents/<consent_id>/pdf")]
async fn consent_pdf(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    consent_id: &str,
) -> PageResult<(ContentType, Vec<u8>)> {
    Ok((
        ContentType::PDF,
        consent::staff_pdf(
            state,
            &session.user,
            slug,
            consent_id.parse().map_err(|_| AppError::NotFound)?,
        )
        .await?,
    ))
}

page_form! {
    pub struct RevealForm {
        reason: String,
        back: String,
    }
}

/// Names and typed signatures are hidden from ethics officers until they give a
/// reason (audited); then this browser shows them for a few minutes.
#[post("/staff/studies/<slug>/reveal", data = "<form>")]
async fn reveal(
    state: &State<AppState>,
    session: SessionUser,
    cookies: &CookieJar<'_>,
    slug: &str,
    form: CsrfForm<RevealForm>,
) -> PageResult<Flash<Redirect>> {
    let f = form.0;
    let back = match f.back.strip_prefix(&format!("/staff/studies/{slug}")) {
        Some(rest) if rest.is_empty() || rest.starts_with("/participants/") => f.back.clone(),
        _ => format!("/staff/studies/{slug}"),
    };
    let result = consent::reveal(state, &session.user, slug, &f.reason).await;
    if result.is_ok() {
        let secure = state.config.public_url.starts_with("https://");
        set_revealed(cookies, session.user.id, slug, secure);
    }
    super::outcome_on(&back, result, |()| {
        format!("Names are shown for {REVEAL_MINUTES} minutes; your reason is in the audit log.")
    })
}

/// A participant's consent story (coordinators and ethics officers; audited).
#[get("/staff/studies/<slug>/participants/<code>", rank = 3)]
async fn story(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    cookies: &CookieJar<'_>,
    flash: Option<FlashMessage<'_>>,
    slug: &str,
    code: &str,
) -> PageResult<Page> {
    let (study, capacity) = study::get(state, &session.user, slug).await?;
    let entries = consent::story(state, &session.user, slug, code).await?;
    let hidden = names_hidden(capacity, cookies, session.user.id, slug);
    let frame = StaffFrame::new(&session.user, csrf.0, flash);
    Ok(Page::render("consent/story", StoryPage::new(frame, &study, code, &entries, hidden)))
}

/// One item row of the drafting form (`items[0].key`, …), named as the domain
/// names its errors.
#[derive(FromForm, Default, Clone, serde::Serialize)]
pub struct ItemRow {
    #[field(default = String::new())]
    key: String,
    #[field(default = String::new())]
    text: String,
    #[field(default = false)]
    required: bool,
    /// Empty, or what the optional item governs.
    #[field(default = String::new())]
    governs: String,
}

impl ItemRow {
    fn is_blank(&self) -> bool {
        self.key.trim().is_empty() && self.text.trim().is_empty()
    }
}

/// One knowledge-review question row of the drafting form (`checks[0].question`, …);
/// its options are typed one per line.
#[derive(FromForm, Default, Clone, serde::Serialize)]
pub struct CheckRow {
    #[field(default = String::new())]
    key: String,
    #[field(default = String::new())]
    question: String,
    #[field(default = String::new())]
    options: String,
    #[field(default = String::new())]
    answer: String,
    #[field(default = String::new())]
    explanation: String,
}

impl CheckRow {
    fn is_blank(&self) -> bool {
        [&self.key, &self.question, &self.options, &self.answer, &self.explanation]
            .iter()
            .all(|f| f.trim().is_empty())
    }

    fn input(&self) -> crate::domain::consent::review::CheckInput {
        crate::domain::consent::review::CheckInput {
            key: self.key.clone(),
            question: self.question.clone(),
            options: self.options.lines().map(str::to_string).collect(),
            answer: self.answer.clone(),
            explanation: self.explanation.clone(),
        }
    }
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct DraftForm {
        version: String,
        language: String,
        title: String,
        body_markdown: String,
        items: Vec<ItemRow>,
        checks: Vec<CheckRow>,
        /// Wrong answers a question allows; empty for as many as needed.
        max_tries: String,
        /// A consent-form file pasted instead of the fields.
        toml: String,
        /// The same, uploaded as a file.
        #[serde(skip)]
        toml_file: String,
        /// `preview` shows the statement as participants will see it; `more` adds
        /// item rows; anything else drafts.
        action: String,
    }
}

/// Blank item rows offered after the ones typed.
const SPARE_ITEM_ROWS: usize = 3;

impl DraftForm {
    pub fn body_markdown(&self) -> &str {
        &self.body_markdown
    }

    /// The item rows typed, blank ones dropped (so error `items[i]` is row `i`).
    fn compact(mut self) -> Self {
        self.items.retain(|i| !i.is_blank());
        self.checks.retain(|c| !c.is_blank());
        if self.toml.trim().is_empty() {
            // An uploaded file is shown in the text box, so its errors can be fixed there.
            self.toml = std::mem::take(&mut self.toml_file);
        }
        self
    }

    fn draft(&self) -> Result<ConsentFormDraft, FieldErrors> {
        if !self.toml.trim().is_empty() {
            let path = std::path::Path::new("the consent-form file");
            return draft_from_str(path, &self.toml, &self.version).map_err(|errors| {
                let mut f = FieldErrors::new();
                for e in errors {
                    let at = if e.line > 0 { format!("Line {}, ", e.line) } else { String::new() };
                    f.add("toml", "invalid_file", format!("{at}{}: {}", e.key, e.message));
                }
                f
            });
        }
        let items: Vec<ItemInput> = self
            .items
            .iter()
            .map(|i| ItemInput {
                key: i.key.clone(),
                text: i.text.clone(),
                required: i.required,
                governs: i.governs.clone(),
            })
            .collect();
        let max_tries = match self.max_tries.trim() {
            "" => None,
            n => Some(n.parse::<u32>().map_err(|_| {
                FieldErrors::single(
                    "max_tries",
                    "not_a_number",
                    "Tries must be a whole number, or empty for as many as needed.",
                )
            })?),
        };
        let review =
            ReviewInput { checks: self.checks.iter().map(CheckRow::input).collect(), max_tries };
        ConsentFormDraft::parse(
            &self.version,
            &self.language,
            &self.title,
            &self.body_markdown,
            &items,
            &review,
        )
    }
}

async fn draft_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    slug: &str,
    form: Option<DraftForm>,
    refusal: Option<&AppError>,
) -> PageResult<(Status, Page)> {
    let (study, capacity) = study::get(state, &session.user, slug).await?;
    if capacity != crate::domain::policy::Capacity::Coordinator {
        let why = "Only the study's coordinators draft consent forms.";
        return Err(AppError::Forbidden(why.into()).into());
    }
    let forms = consent::form::list(state, &session.user, slug).await?;
    let mut values = match form {
        Some(f) => f,
        None => DraftForm::starting_from(forms.last()),
    };
    let preview = values.action == "preview";
    let spare = if values.action == "more" { SPARE_ITEM_ROWS + 5 } else { SPARE_ITEM_ROWS };
    values.items.extend(std::iter::repeat_n(<ItemRow as Default>::default(), spare));
    let spare_checks = if values.action == "more_checks" { 3 } else { 1 };
    values.checks.extend(std::iter::repeat_n(<CheckRow as Default>::default(), spare_checks));
    let frame = StaffFrame::new(&session.user, csrf.to_string(), None);
    let page = DraftPage::new(frame, &study, &forms, values, refusal, preview);
    Ok((super::status_of(refusal), Page::render("consent/draft", page)))
}

impl DraftForm {
    /// A new version's form, filled from the latest version so an amendment starts
    /// from the text in force.
    fn starting_from(latest: Option<&crate::domain::consent::ConsentForm>) -> Self {
        let Some(f) = latest else {
            return Self {
                version: "1".into(),
                language: "en".into(),
                ..<Self as Default>::default()
            };
        };
        Self {
            version: next_version(&f.version),
            language: f.language.clone(),
            title: f.title.clone(),
            body_markdown: f.body_markdown.clone(),
            items: f
                .items
                .iter()
                .map(|i| ItemRow {
                    key: i.key.clone(),
                    text: i.text.clone(),
                    required: i.required,
                    governs: i.governs.map(|g| g.to_string()).unwrap_or_default(),
                })
                .collect(),
            checks: f
                .review
                .checks
                .iter()
                .map(|c| CheckRow {
                    key: c.key.clone(),
                    question: c.question.clone(),
                    options: c.options.join("\n"),
                    answer: c.answer.clone(),
                    explanation: c.explanation.clone(),
                })
                .collect(),
            max_tries: f.review.max_tries.map(|n| n.to_string()).unwrap_or_default(),
            ..<Self as Default>::default()
        }
    }
}

impl DraftForm {
    /// Another language's text of `first`'s version: its fields to translate, the
    /// same version number, the language to fill in.
    fn translating(first: &crate::domain::consent::ConsentForm) -> Self {
        Self {
            version: first.version.clone(),
            language: String::new(),
            ..Self::starting_from(Some(first))
        }
    }
}

/// The version after `v`: `2` after `1`, `1.3` after `1.2`; empty when `v` does not
/// end in a number.
fn next_version(v: &str) -> String {
    let (head, last) = v.rsplit_once('.').map_or(("", v), |(h, l)| (h, l));
    match last.parse::<u64>() {
        Ok(n) if head.is_empty() => (n + 1).to_string(),
        Ok(n) => format!("{head}.{}", n + 1),
        Err(_) => String::new(),
    }
}

/// The page where a coordinator writes a new consent-form version (or pastes its
/// file), previews it as participants will see it, and drafts it for approval.
/// With `?translate=VERSION`, the form starts from that version's first text, to be
/// drafted as its text in another language.
#[get("/staff/studies/<slug>/consent-forms/new?<translate>")]
async fn new_draft(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    translate: Option<&str>,
) -> PageResult<(Status, Page)> {
    let start = match translate {
        Some(version) => {
            let first = consent::form::get(state, &session.user, slug, version, None).await?;
            Some(DraftForm::translating(&first))
        }
        None => None,
    };
    draft_page(state, &session, &csrf.0, slug, start, None).await
}

#[post("/staff/studies/<slug>/consent-forms", data = "<form>")]
async fn create_draft(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<DraftForm>,
) -> super::FormReply {
    let f = form.0.compact();
    if matches!(f.action.as_str(), "preview" | "more" | "more_checks") {
        return Ok(Err(draft_page(state, &session, &csrf.0, slug, Some(f), None).await?));
    }
    let result = consent::form::draft(state, &session.user, slug, f.draft()).await;
    Ok(match super::shown(result)? {
        Ok(form) => Ok(super::done(
            format!("/staff/studies/{slug}/consent-forms/{}/review", form.version),
            format!(
                "Version {} is drafted and waits for an ethics officer's approval on this page.",
                form.version
            ),
        )),
        Err(e) => Err(draft_page(state, &session, &csrf.0, slug, Some(f), Some(&e)).await?),
    })
}

/// A consent-form version exactly as participants will see it.
#[get("/staff/studies/<slug>/consent-forms/<version>/preview?<language>")]
async fn preview(
    state: &State<AppState>,
    session: SessionUser,
    slug: &str,
    version: &str,
    language: Option<&str>,
) -> PageResult<Page> {
    let (study, _) = study::get(state, &session.user, slug).await?;
    let form = consent::form::get(state, &session.user, slug, version, language).await?;
    Ok(Page::render("consent/consent", ConsentPage::preview(&study, &form)))
}

page_form! {
    #[derive(Default)]
    struct SignForm {
        version: String,
        form_hash: String,
        /// The language of the text read, so a refused form comes back in it.
        language: String,
        items: BTreeMap<String, bool>,
        signature: SignatureFields,
        read_confirmed: bool,
    }
}

#[derive(FromForm, Default, Clone)]
struct SignatureFields {
    #[field(default = String::new())]
    typed_name: String,
    #[field(default = String::new())]
    drawn_svg: String,
}

/// What the consent page shows beside the form: the language wanted, the identity
/// box, and the answers of a refused knowledge-review submission.
#[derive(Default)]
struct Around<'a> {
    want: LanguageChoice,
    identity: IdentityBox,
    chosen: Option<&'a BTreeMap<String, String>>,
}

impl Around<'_> {
    /// In the language `posted` names (the text the refused form was read in), else
    /// as `want` asks.
    fn in_language(want: Language, posted: &str) -> Self {
        let mut want = want.0;
        if !posted.trim().is_empty() {
            want.chosen = Some(posted.trim().to_string());
        }
        Self { want, ..Self::default() }
    }
}

async fn sign_page(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    form: Option<&SignForm>,
    error: Option<AppError>,
    around: Around<'_>,
) -> PageResult<(Status, Page)> {
    let Around { want, mut identity, chosen } = around;
    let consent::ReviewState { form: f, progress, languages } =
        consent::review_state(state, &me.participant, &want).await?;
    identity.required = !consent::identity_cleared(state, &me.participant, &me.study).await?;
    let status = error.as_ref().map(|e| Status::new(e.status())).unwrap_or(Status::Ok);
    let entered = form
        .map(|s| Entered {
            items: Some(&s.items),
            typed_name: &s.signature.typed_name,
            drawn_svg: &s.signature.drawn_svg,
            read_confirmed: s.read_confirmed,
        })
        .unwrap_or_default();
    let refusal = Refusal::of(error.as_ref());
    let mut page =
        ConsentPage::signing(participant_frame(me, csrf), &f, entered, &refusal, identity);
    page.languages = LanguageLink::all(&languages, &f.language);
    page.review = (!f.review.is_empty()).then(|| {
        let talk_to = consent::talk_to_the_researchers(&me.study);
        ReviewBox::for_participant(&f.review, &progress, chosen, &refusal, talk_to)
    });
    page.withdrawn = me.participant.status() == "withdrawn";
    Ok((status, Page::render("consent/consent", page)))
}

#[get("/participant/consent?<sent>")]
async fn consent_page(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    language: Language,
    sent: Option<&str>,
) -> PageResult<(Status, Page)> {
    let identity = IdentityBox { sent_to: sent.map(str::to_string), ..IdentityBox::default() };
    let around = Around { want: language.0, identity, chosen: None };
    sign_page(state, &me, &csrf.0, None, None, around).await
}

page_form! {
    #[derive(Default)]
    struct ChecksForm {
        version: String,
        form_hash: String,
        language: String,
        /// Question key to the option chosen.
        answers: BTreeMap<String, String>,
    }
}

/// The participant's answers to the knowledge review: kept, then the consent page
/// again, showing what was right and, after a wrong answer, its explanation.
#[post("/participant/consent/checks", data = "<form>")]
async fn checks_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    language: Language,
    form: CsrfForm<ChecksForm>,
) -> PageResult<Result<Redirect, (Status, Page)>> {
    let f = form.0;
    let sent = consent::Answers {
        version: f.version.clone(),
        form_hash: f.form_hash.clone(),
        answers: f.answers.clone(),
    };
    match consent::answer(state, &me.participant, sent).await {
        Ok(r) if r.progress.passed() => Ok(Ok(Redirect::to("/participant/consent#sign"))),
        Ok(_) => Ok(Ok(Redirect::to("/participant/consent#review"))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let around =
                Around { chosen: Some(&f.answers), ..Around::in_language(language, &f.language) };
            Ok(Err(sign_page(state, &me, &csrf.0, None, Some(e), around).await?))
        }
        Err(e) => Err(PageError(e)),
    }
}

page_form! {
    struct CodeForm {
        code: String,
        /// `choices` when the check was asked for by the page that changes choices.
        back: String,
    }
}

/// Whether an identity form came from the page that changes choices.
fn for_choices(form: &CodeForm) -> bool {
    form.back == "choices"
}

#[post("/participant/identity/code", data = "<form>")]
async fn send_code(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<CodeForm>,
) -> PageResult<Result<Redirect, (Status, Page)>> {
    let choices = for_choices(&form.0);
    match crate::service::consent::identity::send_code(state, &me.participant, &me.study).await {
        Ok(to) if choices => Ok(Ok(Redirect::to(rocket::uri!(choices(sent = Some(to.as_str())))))),
        Ok(to) => Ok(Ok(Redirect::to(rocket::uri!(consent_page(sent = Some(to.as_str())))))),
        Err(e @ AppError::TooMany) => {
            let identity =
                IdentityBox { error: Some(e.public_message()), ..IdentityBox::default() };
            let page = match choices {
                true => choices_with(state, &me, &csrf.0, identity).await?.1,
                false => {
                    let around = Around { identity, ..Around::default() };
                    sign_page(state, &me, &csrf.0, None, None, around).await?.1
                }
            };
            Ok(Err((Status::TooManyRequests, page)))
        }
        Err(e) => Err(PageError(e)),
    }
}

#[post("/participant/identity/verify", data = "<form>")]
async fn verify_code(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<CodeForm>,
) -> PageResult<Result<Redirect, (Status, Page)>> {
    match crate::service::consent::identity::verify_code(
        state,
        &me.participant,
        &me.study,
        &form.0.code,
    )
    .await
    {
        Ok(()) if for_choices(&form.0) => Ok(Ok(Redirect::to("/participant/choices"))),
        Ok(()) => Ok(Ok(Redirect::to("/participant/consent"))),
        Err(e @ (AppError::Validation(_) | AppError::Gone(_) | AppError::TooMany)) => {
            let message = match e.fields() {
                Some(f) => f.messages().into_values().flatten().collect::<Vec<_>>().join(" "),
                None => e.public_message(),
            };
            let identity = IdentityBox { error: Some(message), ..IdentityBox::default() };
            let page = match for_choices(&form.0) {
                true => choices_with(state, &me, &csrf.0, identity).await?.1,
                false => {
                    let around = Around { identity, ..Around::default() };
                    sign_page(state, &me, &csrf.0, None, None, around).await?.1
                }
            };
            Ok(Err((Status::new(e.status()), page)))
        }
        Err(e) => Err(PageError(e)),
    }
}

#[post("/participant/consent", data = "<form>")]
async fn consent_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    language: Language,
    form: CsrfForm<SignForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let f = form.0;
    let req = SignRequest {
        version: f.version.clone(),
        form_hash: f.form_hash.clone(),
        items: f.items.clone(),
        typed_name: f.signature.typed_name.clone(),
        drawn_svg: Some(f.signature.drawn_svg.clone()).filter(|s| !s.trim().is_empty()),
        read_confirmed: f.read_confirmed,
    };
    match consent::give(state, &me.participant, req).await {
        Ok(_) => Ok(Ok(Flash::success(
            Redirect::to("/participant"),
            "Thank you: your consent is recorded. Your signed copy and receipt are below.",
        ))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let around = Around::in_language(language, &f.language);
            Ok(Err(sign_page(state, &me, &csrf.0, Some(&f), Some(e), around).await?))
        }
        Err(e) => Err(PageError(e)),
    }
}

page_form! {
    struct WithdrawForm {
        scope: String,
        reason: String,
    }
}

/// The participant's signed copy, byte for byte as hashed at signing (also after
/// withdrawal: the record stays).
#[get("/participant/consent.pdf")]
async fn my_pdf(
    state: &State<AppState>,
    me: ParticipantUser,
) -> PageResult<(rocket::http::ContentType, Vec<u8>)> {
    let bytes = consent::participant_pdf(state, &me.participant, &me.study).await?;
    Ok((rocket::http::ContentType::PDF, bytes))
}

/// The consent receipt as a page (its JSON form is under the API), with every
/// signed record when there is more than one.
#[get("/participant/receipt")]
async fn my_receipt(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    flash: Option<FlashMessage<'_>>,
) -> PageResult<Page> {
    let all = consent::history(state, &me.participant).await?;
    let given = all.last().ok_or(AppError::NotFound)?;
    let frame = participant_frame(&me, &csrf.0).told(flash);
    let mut page = ReceiptPage::new(frame, given, me.study.timezone);
    page.history = HistoryLine::of(&all, me.study.timezone);
    Ok(Page::render("consent/receipt", page))
}

/// One of the participant's own signed records (another's is not found); audited.
#[get("/participant/consents/<id>")]
async fn my_pdf_of(
    state: &State<AppState>,
    me: ParticipantUser,
    id: &str,
) -> PageResult<(rocket::http::ContentType, Vec<u8>)> {
    let id = id.strip_suffix(".pdf").and_then(|n| n.parse().ok()).ok_or(AppError::NotFound)?;
    let bytes = consent::participant_pdf_of(state, &me.participant, &me.study, id).await?;
    Ok((rocket::http::ContentType::PDF, bytes))
}

page_form! {
    #[derive(Default)]
    struct ChoicesForm {
        items: BTreeMap<String, bool>,
        signature: SignatureFields,
    }
}

/// The page that changes optional choices, or why it cannot; with the identity
/// check first when the study asks for one.
async fn choices_page(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    (current, identity): (Result<crate::domain::consent::ConsentRecord, AppError>, IdentityBox),
    entered: Option<&ChoicesForm>,
    refusal: Option<&AppError>,
) -> PageResult<(Status, Page)> {
    let mut identity = identity;
    identity.required = !consent::identity_cleared(state, &me.participant, &me.study).await?;
    let frame = participant_frame(me, csrf);
    let page = match current {
        Ok(record) => ChoicesPage::new(
            frame,
            &record,
            entered.map(|f| &f.items),
            entered.map_or("", |f| f.signature.typed_name.as_str()),
            refusal,
        )
        .with_identity(identity),
        Err(e @ (AppError::Conflict(_) | AppError::Gone(_))) => {
            let mut page = ChoicesPage::empty(frame);
            page.closed = Some(e.public_message());
            page
        }
        Err(e) => return Err(PageError(e)),
    };
    let status = refusal.map_or(Status::Ok, |e| Status::new(e.status()));
    Ok((status, Page::render("consent/choices", page)))
}

/// The choices page with `identity` (a code just sent, or the check's error).
async fn choices_with(
    state: &AppState,
    me: &ParticipantUser,
    csrf: &str,
    identity: IdentityBox,
) -> PageResult<(Status, Page)> {
    let current = consent::current_choices(state, &me.participant).await;
    choices_page(state, me, csrf, (current, identity), None, None).await
}

#[get("/participant/choices?<sent>")]
async fn choices(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    sent: Option<&str>,
) -> PageResult<(Status, Page)> {
    let identity = IdentityBox { sent_to: sent.map(str::to_string), ..IdentityBox::default() };
    choices_with(state, &me, &csrf.0, identity).await
}

#[post("/participant/choices", data = "<form>")]
async fn choices_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<ChoicesForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let f = form.0;
    let change = consent::ChoiceChange {
        items: f.items.clone(),
        typed_name: f.signature.typed_name.clone(),
    };
    match consent::change_choices(state, &me.participant, change).await {
        Ok(_) => Ok(Ok(Flash::success(
            Redirect::to("/participant/receipt"),
            "Your choices are changed: a new signed record is below, and a copy is on its way to your e-mail.",
        ))),
        Err(e @ (AppError::Validation(_) | AppError::Forbidden(_))) => {
            let current = consent::current_choices(state, &me.participant).await;
            let shown = (current, IdentityBox::default());
            choices_page(state, &me, &csrf.0, shown, Some(&f), Some(&e)).await.map(Err)
        }
        Err(e @ (AppError::Conflict(_) | AppError::Gone(_))) => {
            let shown = (Err(e), IdentityBox::default());
            choices_page(state, &me, &csrf.0, shown, None, None).await.map(Err)
        }
        Err(e) => Err(PageError(e)),
    }
}

/// The withdrawal form's one question, asked in words (the API's `scope` codes
/// stay out of the page).
const NO_SCOPE: &str = "Choose what should happen to what you have already given: keep it, \
                        or also remove your answers from the results.";

#[get("/participant/withdraw")]
fn withdraw_page(me: ParticipantUser, csrf: CsrfToken) -> Page {
    let page = WithdrawPage {
        frame: participant_frame(&me, &csrf.0),
        errors: Vec::new(),
        withdrawn: me.participant.status() == "withdrawn",
    };
    Page::render("consent/withdraw", page)
}

#[post("/participant/withdraw", data = "<form>")]
async fn withdraw_submit(
    state: &State<AppState>,
    me: ParticipantUser,
    csrf: CsrfToken,
    form: CsrfForm<WithdrawForm>,
) -> PageResult<Result<Flash<Redirect>, (Status, Page)>> {
    let f = form.0;
    if f.scope.trim().is_empty() {
        let errors = vec![NO_SCOPE.to_string()];
        let page =
            WithdrawPage { frame: participant_frame(&me, &csrf.0), errors, withdrawn: false };
        return Ok(Err((Status::UnprocessableEntity, Page::render("consent/withdraw", page))));
    }
    match consent::withdraw(state, &me.participant, &f.scope, Some(f.reason.as_str())).await {
        Ok(_) => Ok(Ok(Flash::success(
            Redirect::to("/participant"),
            "You have withdrawn from the study. Nothing more will be asked of you.",
        ))),
        Err(e @ AppError::Validation(_)) => {
            let errors = Refusal::of(Some(&e)).messages();
            let page =
                WithdrawPage { frame: participant_frame(&me, &csrf.0), errors, withdrawn: false };
            Ok(Err((Status::UnprocessableEntity, Page::render("consent/withdraw", page))))
        }
        Err(e) => Err(PageError(e)),
    }
}

page_form! {
    #[derive(Default, serde::Serialize)]
    pub struct SummaryForm {
        summary: String,
    }
}

async fn summary_page(
    state: &AppState,
    session: &SessionUser,
    csrf: &str,
    slug: &str,
    refused: Option<(SummaryForm, &AppError)>,
) -> PageResult<(Status, Page)> {
    let (study, status) = consent::choices::summary_status(state, &session.user, slug).await?;
    let (values, refusal) = match refused {
        Some((values, e)) => (values, Some(e)),
        None => (<SummaryForm as Default>::default(), None),
    };
    let frame = StaffFrame::new(&session.user, csrf.to_string(), None);
    let page = SummaryPage::new(frame, &study, &status, FormView::new(values, refusal));
    Ok((super::status_of(refusal), Page::render("consent/summary", page)))
}

/// The results summary: who asked for it at consent, and (once the study is
/// closed) the form that mails it to them.
#[get("/staff/studies/<slug>/results-summary")]
async fn results_summary(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
) -> PageResult<(Status, Page)> {
    summary_page(state, &session, &csrf.0, slug, None).await
}

#[post("/staff/studies/<slug>/results-summary", data = "<form>")]
async fn send_results_summary(
    state: &State<AppState>,
    session: SessionUser,
    csrf: CsrfToken,
    slug: &str,
    form: CsrfForm<SummaryForm>,
) -> super::FormReply {
    let f = form.0;
    let result =
        consent::choices::send_results_summary(state, &session.user, slug, &f.summary).await;
    Ok(match super::shown(result)? {
        Ok(n) => Ok(super::done(
            format!("/staff/studies/{slug}/results-summary"),
            format!("The results summary is queued for {n} participant(s)."),
        )),
        Err(e) => Err(summary_page(state, &session, &csrf.0, slug, Some((f, &e))).await?),
    })
}

pub fn routes() -> Vec<rocket::Route> {
    routes![
        my_pdf_of,
        choices,
        choices_submit,
        results_summary,
        send_results_summary,
        my_pdf,
        my_receipt,
        approve_form,
        review,
        consent_pdf,
        story,
        reveal,
        preview,
        new_draft,
        create_draft,
        consent_page,
        consent_submit,
        checks_submit,
        send_code,
        verify_code,
        withdraw_page,
        withdraw_submit
    ]
}
