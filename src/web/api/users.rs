//! Staff accounts, for admins.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};

use super::dto::{CreateUser, ErrorBody, UserDto};
use crate::domain::user::NewUser;
use crate::service::{Actor, AppState, users};
use crate::web::errors::ApiResult;
use crate::web::guards::Admin;
use crate::web::json::JsonBody;

#[utoipa::path(
    post, path = "/api/v1/users", tag = "staff",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Account created", body = UserDto),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "No or bad token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "A field was refused (an e-mail address in use is refused here)", body = ErrorBody),
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
    let user = users::create(state, Actor::Staff(&admin.0), new).await?;
    Ok((Status::Created, Json(UserDto::from(&user))))
}

#[utoipa::path(
    get, path = "/api/v1/users", tag = "staff",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every staff account", body = Vec<UserDto>),
        (status = 401, description = "No or bad token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/users")]
pub async fn list(state: &State<AppState>, admin: Admin) -> ApiResult<Json<Vec<UserDto>>> {
    let all = users::list(state, &admin.0).await?;
    Ok(Json(all.iter().map(UserDto::from).collect()))
}
