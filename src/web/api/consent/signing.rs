//! The participant's side of consent: the form in force, signing, their signed copy
//! and receipt, the identity check before signing, and withdrawal.

use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde_json::Value;

use crate::domain::consent::SignRequest;
use crate::service::{AppState, consent};
use crate::web::api::dto::EnterCode;
use crate::web::api::dto::{AnswerChecks, ReviewDto};
use crate::web::api::dto::{ChangeChoices, ConsentHistoryDto};
use crate::web::api::dto::{ConsentGivenDto, ErrorBody, GiveConsent, ParticipantFormDto, Withdraw};
use crate::web::api::responses::{MalformedBody, NoParticipantToken};
use crate::web::errors::ApiResult;
use crate::web::guards::{Language, ParticipantUser};
use crate::web::json::JsonBody;

#[utoipa::path(
    get, path = "/api/v1/participant/consent-form", tag = "participants",
    params(("language" = Option<String>, Query, description = "The language's text (BCP 47) when the version in force has one; else the best `Accept-Language` match, else its first text")),
    security(("participant" = [])),
    responses(
        (status = 200, description = "The consent form in force, in the language asked for", body = ParticipantFormDto),
        NoParticipantToken,
        (status = 404, description = "The study has no consent form in force", body = ErrorBody),
    )
)]
#[get("/participant/consent-form")]
pub async fn consent_form(
    state: &State<AppState>,
    me: ParticipantUser,
    language: Language,
) -> ApiResult<Json<ParticipantFormDto>> {
    let review = consent::review_state(state, &me.participant, &language.0).await?;
    Ok(Json(ParticipantFormDto::new(review, &me.study)))
}

#[utoipa::path(
    post, path = "/api/v1/participant/consent/checks", tag = "participants",
    request_body = AnswerChecks,
    security(("participant" = [])),
    responses(
        (status = 200, description = "The answers are kept; where the participant stands on each question (a wrong answer comes with its explanation)", body = ReviewDto),
        MalformedBody,
        NoParticipantToken,
        (status = 409, description = "Not the version in force, no questions to answer, withdrawn, or no tries left (talk to the researchers)", body = ErrorBody),
        (status = 410, description = "The study cannot take consent now", body = ErrorBody),
        (status = 422, description = "An open question without an answer, an answer that is not one of its options, or an unknown question: nothing is counted", body = ErrorBody),
    )
)]
#[post("/participant/consent/checks", data = "<body>")]
pub async fn answer_checks(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<AnswerChecks>,
) -> ApiResult<Json<ReviewDto>> {
    let b = body.0;
    let sent = consent::Answers { version: b.version, form_hash: b.form_hash, answers: b.answers };
    let review = consent::answer(state, &me.participant, sent).await?;
    Ok(Json(ReviewDto::new(&review, &me.study)))
}

#[utoipa::path(
    post, path = "/api/v1/participant/consent", tag = "participants",
    request_body = GiveConsent,
    security(("participant" = [])),
    responses(
        (status = 201, description = "Consent recorded; the signed PDF is stored", body = ConsentGivenDto),
        (status = 200, description = "The same consent again (a safe retry): the existing record", body = ConsentGivenDto),
        MalformedBody,
        NoParticipantToken,
        (status = 409, description = "Not the version in force, another text, a different consent given already, or no tries left on a knowledge-review question", body = ErrorBody),
        (status = 410, description = "The study cannot take consent now", body = ErrorBody),
        (status = 422, description = "A required item not agreed, no name, reading not confirmed, or the knowledge review not passed yet", body = ErrorBody),
    )
)]
#[post("/participant/consent", data = "<body>")]
pub async fn give(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<GiveConsent>,
) -> ApiResult<(Status, Json<ConsentGivenDto>)> {
    let b = body.0;
    let req = SignRequest::from(b);
    let given = consent::give(state, &me.participant, req).await?;
    let status = if given.created { Status::Created } else { Status::Ok };
    let receipt = consent::receipt(state, &me.study, &me.participant, &given);
    Ok((status, Json(ConsentGivenDto::new(&given, receipt))))
}

#[utoipa::path(
    get, path = "/api/v1/participant/consent.pdf", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The signed PDF, byte for byte as hashed at signing", content_type = "application/pdf", body = Vec<u8>),
        NoParticipantToken,
        (status = 404, description = "No consent given yet", body = ErrorBody),
    )
)]
#[get("/participant/consent.pdf")]
pub async fn pdf(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<(ContentType, Vec<u8>)> {
    let bytes = consent::participant_pdf(state, &me.participant, &me.study).await?;
    Ok((ContentType::PDF, bytes))
}

#[utoipa::path(
    post, path = "/api/v1/participant/consent/choices", tag = "participants",
    request_body = ChangeChoices,
    security(("participant" = [])),
    responses(
        (status = 201, description = "A new signed record with the same participant code that amends the latest one (its own PDF, hashes and receipt mail; audited as `consent.amended`)", body = ConsentGivenDto),
        MalformedBody,
        NoParticipantToken,
        (status = 409, description = "Not consented yet, withdrawn, or the form has no optional items", body = ErrorBody),
        (status = 410, description = "The study is closed", body = ErrorBody),
        (status = 422, description = "An unknown item, a required item declined (that is withdrawal), nothing changed, or no name", body = ErrorBody),
    )
)]
#[post("/participant/consent/choices", data = "<body>")]
pub async fn change_choices(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<ChangeChoices>,
) -> ApiResult<(Status, Json<ConsentGivenDto>)> {
    let b = body.0;
    let change = consent::ChoiceChange { items: b.items, typed_name: b.signature.typed_name };
    let given = consent::change_choices(state, &me.participant, change).await?;
    let receipt = consent::receipt(state, &me.study, &me.participant, &given);
    Ok((Status::Created, Json(ConsentGivenDto::new(&given, receipt))))
}

#[utoipa::path(
    get, path = "/api/v1/participant/consents", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "Every consent record of the caller, oldest first: as given, each re-consent and each change of choices", body = Vec<ConsentHistoryDto>),
        NoParticipantToken,
    )
)]
#[get("/participant/consents")]
pub async fn history(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<Json<Vec<ConsentHistoryDto>>> {
    let all = consent::history(state, &me.participant).await?;
    Ok(Json(all.iter().map(ConsentHistoryDto::from).collect()))
}

#[utoipa::path(
    get, path = "/api/v1/participant/consents/{id}/pdf", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The signed PDF of one of the caller's records (the read is audited)", content_type = "application/pdf", body = Vec<u8>),
        NoParticipantToken,
        (status = 404, description = "Not one of the caller's records", body = ErrorBody),
    )
)]
#[get("/participant/consents/<id>/pdf")]
pub async fn pdf_of(
    state: &State<AppState>,
    me: ParticipantUser,
    id: i64,
) -> ApiResult<(ContentType, Vec<u8>)> {
    let bytes = consent::participant_pdf_of(state, &me.participant, &me.study, id).await?;
    Ok((ContentType::PDF, bytes))
}

#[utoipa::path(
    get, path = "/api/v1/participant/consent/receipt", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The consent receipt (fields after ISO/IEC TS 27560)", body = Object),
        NoParticipantToken,
        (status = 404, description = "No consent given yet", body = ErrorBody),
    )
)]
#[get("/participant/consent/receipt")]
pub async fn receipt(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<Json<crate::domain::consent::receipt::Receipt>> {
    let given =
        consent::latest(state, &me.participant).await?.ok_or(crate::error::AppError::NotFound)?;
    Ok(Json(consent::receipt(state, &me.study, &me.participant, &given)))
}

#[utoipa::path(
    post, path = "/api/v1/participant/withdraw", tag = "participants",
    request_body = Withdraw,
    security(("participant" = [])),
    responses(
        (status = 200, description = "Withdrawn; the consent record stays", body = Object),
        MalformedBody,
        NoParticipantToken,
        (status = 409, description = "Withdrawn already", body = ErrorBody),
        (status = 422, description = "Unknown scope", body = ErrorBody),
    )
)]
#[post("/participant/withdraw", data = "<body>")]
pub async fn withdraw(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<Withdraw>,
) -> ApiResult<Json<Value>> {
    let p =
        consent::withdraw(state, &me.participant, &body.0.scope, body.0.reason.as_deref()).await?;
    let w = p.withdrawal.as_ref();
    Ok(Json(serde_json::json!({
        "status": p.status(),
        "scope": w.map(|w| w.scope),
        "withdrawn_at": w.map(|w| crate::domain::audit::format_at(&w.at)),
        "consent_record_kept": true,
    })))
}

#[utoipa::path(
    post, path = "/api/v1/participant/identity/code", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 202, description = "A code is on its way to the participant's e-mail address", body = Object),
        NoParticipantToken,
        (status = 409, description = "The study does not use an identity check", body = ErrorBody),
        (status = 429, description = "Too many codes this hour", body = ErrorBody),
    )
)]
#[post("/participant/identity/code")]
pub async fn send_code(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<(Status, Json<Value>)> {
    let to =
        crate::service::consent::identity::send_code(state, &me.participant, &me.study).await?;
    Ok((
        Status::Accepted,
        Json(
            serde_json::json!({"sent_to": to, "expires_in_minutes": crate::domain::consent::identity::CODE_TTL_MINUTES}),
        ),
    ))
}

#[utoipa::path(
    post, path = "/api/v1/participant/identity/verify", tag = "participants",
    request_body = EnterCode,
    security(("participant" = [])),
    responses(
        (status = 200, description = "The code is right: signing is open for two hours", body = Object),
        MalformedBody,
        NoParticipantToken,
        (status = 409, description = "The study does not use an identity check", body = ErrorBody),
        (status = 410, description = "The code has expired", body = ErrorBody),
        (status = 422, description = "Wrong code, or none asked for", body = ErrorBody),
        (status = 429, description = "Too many tries", body = ErrorBody),
    )
)]
#[post("/participant/identity/verify", data = "<body>")]
pub async fn verify_code(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<EnterCode>,
) -> ApiResult<Json<Value>> {
    crate::service::consent::identity::verify_code(state, &me.participant, &me.study, &body.0.code)
        .await?;
    Ok(Json(serde_json::json!({"verified": true})))
}
