//! The participant's side of the API (their own record only, by their private
//! token) and the coordinator's direct invitation.

use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde_json::Value;

use super::dto::{
    ConsentGivenDto, ConsentItemDto, ContactDto, ErrorBody, EthicsRefDto, GiveConsent,
    InvitationDto, InviteParticipant, NextStepDto, ParticipantFormDto, PortalConsentDto, PortalDto,
    PortalStudyDto, SlotDto, Withdraw,
};
use super::dto::{EnterCode, LinkRequestedDto, RequestLink};
use crate::domain::audit::format_at;
use crate::domain::consent::SignRequest;
use crate::service::participant::Invitation;
use crate::service::{AppState, consent, focus_group, participant};
use crate::web::errors::ApiResult;
use crate::web::guards::{ParticipantUser, StaffUser};
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/participants", tag = "participants",
    params(("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed")),
    request_body = InviteParticipant,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new participant: the private link (shown once, and mailed)", body = InvitationDto),
        (status = 202, description = "The address is in the study already: nothing is replaced, and a new link is mailed to it", body = InvitationDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or bad token", body = ErrorBody),
        (status = 403, description = "Not a coordinator of the study", body = ErrorBody),
        (status = 404, description = "No such study, or not one of yours", body = ErrorBody),
        (status = 410, description = "The study is suspended or closed", body = ErrorBody),
        (status = 422, description = "A field was refused", body = ErrorBody),
        (status = 429, description = "Three links went to that address in the last hour", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/participants", data = "<body>")]
pub async fn invite(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    body: JsonBody<InviteParticipant>,
) -> ApiResult<(Status, Json<InvitationDto>)> {
    let inv = participant::invite(state, &staff.0, slug, &body.0.name, &body.0.email).await?;
    Ok(match inv {
        Invitation::New { token, portal_url, .. } => (
            Status::Created,
            Json(InvitationDto {
                participant_token: Some(token),
                portal_url: Some(portal_url),
                sent: true,
            }),
        ),
        Invitation::Known { .. } => (
            Status::Accepted,
            Json(InvitationDto { participant_token: None, portal_url: None, sent: true }),
        ),
    })
}

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/participants/{code}/link", tag = "participants",
    params(
        ("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed"),
        ("code" = String, Path, description = "The participant's code", example = "P001"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new link is on its way to the participant's address on record; the links they hold keep working", body = LinkRequestedDto),
        (status = 401, description = "No or bad token", body = ErrorBody),
        (status = 403, description = "Not a coordinator of the study", body = ErrorBody),
        (status = 404, description = "No such study or participant, or not one of yours", body = ErrorBody),
        (status = 429, description = "Three links went to that address in the last hour", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/participants/<code>/link")]
pub async fn send_link(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
    code: &str,
) -> ApiResult<(Status, Json<LinkRequestedDto>)> {
    participant::send_link(state, &staff.0, slug, code).await?;
    Ok((Status::Accepted, Json(LinkRequestedDto { sent: true })))
}

#[utoipa::path(
    get, path = "/api/v1/participant", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The participant's status and next steps", body = PortalDto),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
    )
)]
#[get("/participant")]
pub async fn portal(state: &State<AppState>, me: ParticipantUser) -> ApiResult<Json<PortalDto>> {
    let (latest, steps) = consent::portal(state, &me.participant).await?;
    let booked = focus_group::booking(state, &me.participant).await?;
    let s = &me.study;
    Ok(Json(PortalDto {
        study: PortalStudyDto {
            slug: s.slug.clone(),
            title: s.title.clone(),
            ethics: EthicsRefDto {
                committee: s.ethics.committee.clone(),
                reference: s.ethics.reference.clone(),
            },
            contact: ContactDto { name: s.contact_name.clone(), email: s.contact_email.clone() },
        },
        code: me.participant.code.clone(),
        status: me.participant.status().to_string(),
        consent: latest.map(|g| PortalConsentDto {
            version: g.record.form_version,
            signed_at: g.record.signed_at,
            pdf_sha256: g.pdf_sha256,
        }),
        next_steps: steps
            .into_iter()
            .map(|n| NextStepDto {
                step: n.step.to_string(),
                state: n.state.to_string(),
                key: n.key,
                version: n.version,
            })
            .collect(),
        focus_group: booked.map(|g| SlotDto {
            id: g.id,
            starts_at: format_at(&g.starts_at),
            ends_at: format_at(&g.ends_at()),
            title: g.title,
            location: g.location,
            chosen: true,
        }),
    }))
}

#[utoipa::path(
    get, path = "/api/v1/participant/consent-form", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The consent form in force", body = ParticipantFormDto),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
        (status = 404, description = "The study has no consent form in force", body = ErrorBody),
    )
)]
#[get("/participant/consent-form")]
pub async fn consent_form(
    state: &State<AppState>,
    me: ParticipantUser,
) -> ApiResult<Json<ParticipantFormDto>> {
    let f = consent::active_form(state, &me.participant).await?;
    Ok(Json(ParticipantFormDto {
        version: f.version,
        title: f.title,
        language: f.language,
        body_markdown: f.body_markdown,
        items: f
            .items
            .into_iter()
            .map(|i| ConsentItemDto { key: i.key, text: i.text, required: i.required })
            .collect(),
        form_hash: f.form_hash,
        ethics: EthicsRefDto {
            committee: me.study.ethics.committee.clone(),
            reference: me.study.ethics.reference.clone(),
        },
    }))
}

#[utoipa::path(
    post, path = "/api/v1/participant/consent", tag = "participants",
    request_body = GiveConsent,
    security(("participant" = [])),
    responses(
        (status = 201, description = "Consent recorded; the signed PDF is stored", body = ConsentGivenDto),
        (status = 200, description = "The same consent again (a safe retry): the existing record", body = ConsentGivenDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
        (status = 409, description = "Not the version in force, another text, or a different consent given already", body = ErrorBody),
        (status = 410, description = "The study cannot take consent now", body = ErrorBody),
        (status = 422, description = "A required item not agreed, no name, or reading not confirmed", body = ErrorBody),
    )
)]
#[post("/participant/consent", data = "<body>")]
pub async fn give(
    state: &State<AppState>,
    me: ParticipantUser,
    body: JsonBody<GiveConsent>,
) -> ApiResult<(Status, Json<ConsentGivenDto>)> {
    let b = body.0;
    let req = SignRequest {
        version: b.version,
        form_hash: b.form_hash,
        items: b.items,
        typed_name: b.signature.typed_name,
        drawn_svg: b.signature.drawn_svg,
        read_confirmed: b.read_confirmed,
    };
    let given = consent::give(state, &me.participant, req).await?;
    let status = if given.created { Status::Created } else { Status::Ok };
    let receipt = consent::receipt(state, &me.study, &me.participant, &given);
    Ok((
        status,
        Json(ConsentGivenDto {
            consent_id: given.consent_id,
            participant_code: given.record.participant_code.clone(),
            signed_at: given.record.signed_at.clone(),
            version: given.record.form_version.clone(),
            ethics_reference: given.record.ethics_reference.clone(),
            record_sha256: given.record_sha256.clone(),
            pdf_sha256: given.pdf_sha256.clone(),
            receipt,
        }),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/participant/consent.pdf", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The signed PDF, byte for byte as hashed at signing", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
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
    get, path = "/api/v1/participant/consent/receipt", tag = "participants",
    security(("participant" = [])),
    responses(
        (status = 200, description = "The consent receipt (fields after ISO/IEC TS 27560)", body = Object),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
        (status = 404, description = "No consent given yet", body = ErrorBody),
    )
)]
#[get("/participant/consent/receipt")]
pub async fn receipt(state: &State<AppState>, me: ParticipantUser) -> ApiResult<Json<Value>> {
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
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
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
        (status = 401, description = "No or bad participant token", body = ErrorBody),
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
    post, path = "/api/v1/participant/link", tag = "participants",
    request_body = RequestLink,
    responses(
        (status = 202, description = "The same answer for every address: if it is on record in a study, a new link is mailed to it (at most three an hour); links already sent keep working", body = LinkRequestedDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 422, description = "Not an e-mail address", body = ErrorBody),
    )
)]
#[post("/participant/link", data = "<body>")]
pub async fn request_link(
    state: &State<AppState>,
    body: JsonBody<RequestLink>,
) -> ApiResult<(Status, Json<LinkRequestedDto>)> {
    participant::request_link(state, &body.0.email).await?;
    Ok((Status::Accepted, Json(LinkRequestedDto { sent: true })))
}

#[utoipa::path(
    post, path = "/api/v1/participant/identity/verify", tag = "participants",
    request_body = EnterCode,
    security(("participant" = [])),
    responses(
        (status = 200, description = "The code is right: signing is open for two hours", body = Object),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or bad participant token", body = ErrorBody),
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

#[utoipa::path(
    post, path = "/api/v1/studies/{slug}/reminders", tag = "participants",
    params(("slug" = String, Path, description = "The study's slug", example = "social-media-med-ed")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Reminders queued for participants with open steps (at most one per 48 hours each)", body = super::dto::RemindersDto),
        (status = 401, description = "No or bad token", body = ErrorBody),
        (status = 403, description = "Not a coordinator of the study", body = ErrorBody),
        (status = 404, description = "No such study, or not one of yours", body = ErrorBody),
        (status = 410, description = "The study is not recruiting or paused", body = ErrorBody),
    )
)]
#[post("/studies/<slug>/reminders")]
pub async fn remind(
    state: &State<AppState>,
    staff: StaffUser,
    slug: &str,
) -> ApiResult<(Status, Json<super::dto::RemindersDto>)> {
    let queued = participant::remind(state, &staff.0, slug).await?;
    Ok((Status::Accepted, Json(super::dto::RemindersDto { queued })))
}
