//! Seed section "Club".

use actix_web::web;
use huddle_actors::repo::club::{CreateClub, GetClub, ListClubMembers, ListMyClubs};
use huddle_actors::{ClubId, Uid};
use serde::Serialize;
use utoipa::ToSchema;

use super::pagination::{self, PageResult};
use super::path_id;
use super::user::URL_MAX;
use super::views::{ClubJson, UserItem};
use crate::auth::{text_limit, Profiled};
use crate::envelope::{ok, ApiError, ApiResult, BusinessCode, Empty};
use crate::state::AppState;

/// Club (and room) name limit (characters).
pub const NAME_MAX: usize = 100;

/// `/club/*`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/club").post(create_club).get(list_my_clubs))
        .service(web::resource("/club/{clubId}").get(get_club))
        .service(web::resource("/club/{clubId}/member").get(list_members))
        .service(web::resource("/club/{clubId}/join").post(join))
        .service(web::resource("/club/{clubId}/leave").post(leave));
}

fn club_not_found() -> ApiError {
    ApiError::business(BusinessCode::ClubNotFound)
}

/// A club and whether `viewer` joined it; 500000 when unknown.
pub async fn existing_club(
    state: &AppState,
    club_id: &ClubId,
    viewer: &Uid,
) -> Result<(huddle_actors::repo::club::Club, bool), ApiError> {
    state
        .repo
        .run(GetClub {
            club_id: club_id.clone(),
            viewer: viewer.clone(),
        })
        .await?
        .ok_or_else(club_not_found)
}

async fn create_club(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let name = text_limit("name", call.params.required("name")?, NAME_MAX)?.to_owned();
    let cover = text_limit("cover", call.params.required("cover")?, URL_MAX)?.to_owned();
    let club = state
        .repo
        .run(CreateClub {
            club_id: ClubId::new(),
            uid: call.uid.clone(),
            name,
            cover,
            now: state.clock.now_ms(),
        })
        .await?;
    ok(ClubJson::new(&club, None))
}

async fn get_club(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let club_id = path_id(&path, ClubId::parse)?;
    let (club, joined) = existing_club(&state, &club_id, &call.uid).await?;
    ok(ClubJson::new(&club, Some(joined)))
}

/// A `GET /club` item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClubItem {
    /// The club (32 hex).
    club_id: String,
    /// The club.
    club_result: ClubJson,
    /// When I joined (ms since the epoch).
    create_time: i64,
    /// Cursor: pass as `lastId` for the next page.
    sequence_id: String,
}

async fn list_my_clubs(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let page = pagination::keyset(&call.params)?;
    let count = page.count;
    let clubs = state
        .repo
        .run(ListMyClubs {
            uid: call.uid.clone(),
            page,
        })
        .await?;
    let list: Vec<ClubItem> = clubs
        .iter()
        .map(|(joined_at, club)| ClubItem {
            club_id: club.club_id.to_string(),
            club_result: ClubJson::new(club, Some(true)),
            create_time: *joined_at,
            sequence_id: pagination::sequence_id(*joined_at, club.club_id.as_str()),
        })
        .collect();
    ok(PageResult::new(count, list))
}

async fn list_members(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let club_id = path_id(&path, ClubId::parse)?;
    let page = pagination::keyset(&call.params)?;
    let (_, joined) = existing_club(&state, &club_id, &call.uid).await?;
    if !joined {
        return Err(ApiError::Forbidden(
            "only members can see a club's members".into(),
        ));
    }
    let count = page.count;
    let members = state
        .repo
        .run(ListClubMembers {
            club_id,
            viewer: call.uid.clone(),
            page,
        })
        .await?;
    let list: Vec<UserItem> = members
        .iter()
        .map(|(t, user)| UserItem::new(*t, user))
        .collect();
    ok(PageResult::new(count, list))
}

async fn join(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let club_id = path_id(&path, ClubId::parse)?;
    let club = state
        .clubs
        .join(&club_id, &call.uid)
        .await?
        .ok_or_else(club_not_found)?;
    ok(ClubJson::new(&club, Some(true)))
}

async fn leave(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let club_id = path_id(&path, ClubId::parse)?;
    state
        .clubs
        .leave(&club_id, &call.uid)
        .await?
        .ok_or_else(club_not_found)?;
    ok(Empty {})
}
