//! Staff accounts, for admins.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post, put};

use super::dto::{ChangeUser, CreateUser, ErrorBody, UserDto};
use crate::domain::user::NewUser;
use crate::service::user::AccountChange;
use crate::service::{Actor, AppState, user};
use crate::web::api::responses::{MalformedBody, NoToken};
use crate::web::errors::ApiResult;
use crate::web::guards::Admin;
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/users", tag = "staff",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Account created", body = UserDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A field was refused (an e-mail address in use, a password too easy to guess)", body = ErrorBody),
    )
)]
#[post("/users", data = "<body>")]
pub async fn create(
    state: &State<AppState>,
    admin: Admin,
    body: JsonBody<CreateUser>,
) -> ApiResult<(Status, Json<UserDto>)> {
    let b = body.0;
    let new = NewUser::parse(&b.email, &b.name, &b.role, &b.password)?;
    let user = user::create(state, Actor::Staff(&admin.0), new).await?;
    Ok((Status::Created, Json(UserDto::from(&user))))
}

#[utoipa::path(
    get, path = "/api/v1/users", tag = "staff",
    responses(
        (status = 200, description = "Every staff account", body = Vec<UserDto>),
        NoToken,
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/users")]
pub async fn list(state: &State<AppState>, admin: Admin) -> ApiResult<Json<Vec<UserDto>>> {
    let all = user::list(state, &admin.0).await?;
    Ok(Json(all.iter().map(UserDto::from).collect()))
}

#[utoipa::path(
    put, path = "/api/v1/users/{id}", tag = "staff",
    request_body = ChangeUser,
    responses(
        (status = 200, description = "The account as it is now", body = UserDto),
        MalformedBody,
        NoToken,
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "An admin cannot switch off their own account", body = ErrorBody),
        (status = 422, description = "A field has the wrong type", body = ErrorBody),
    )
)]
#[put("/users/<id>", data = "<body>")]
pub async fn change(
    state: &State<AppState>,
    admin: Admin,
    id: i64,
    body: JsonBody<ChangeUser>,
) -> ApiResult<Json<UserDto>> {
    let change = AccountChange { active: body.0.active, revoke_tokens: body.0.revoke_tokens };
    let user = user::change(state, Actor::Staff(&admin.0), id, change).await?;
    Ok(Json(UserDto::from(&user)))
}
