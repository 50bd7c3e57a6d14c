//! Seed section "Club".

use actix_web::web;
use huddle_actors::repo::club::{CreateClub, GetClub, ListClubMembers, ListMyClubs};
use huddle_actors::{ClubId, Uid};
use serde::Serialize;
use utoipa::ToSchema;

use super::inputs::{inputs, ClubName, CoverUrl, FromParams};
use super::openapi::{envelope, of, Method, Res, RouteDoc, Tag, BASE, EMPTY, P_CLUB};
use super::pagination::{self, KeysetPage, PageResult};
use super::path_id;
use super::views::{ClubJson, UserItem};
use crate::auth::Profiled;
use crate::envelope::{ok, ApiError, ApiResult, BusinessCode, Empty, SUCCESS};
use crate::state::AppState;

inputs! {
    /// `POST /club`.
    pub struct NewClub {
        name: required ClubName = "name", Body, "Name (名称).";
        cover: required CoverUrl = "cover", Body, "Cover image URL (封面).";
    }
}

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/club",
        handler: Some(|r| r.to(create_club)),
        tags: &[Tag::Club],
        summary: "Create a club (创建圈子)",
        description: "The creator joins it. `joined` is left out of the result, as in the seed.",
        input: &[NewClub::PARAMS],
        reply: envelope(Res::Schema(of::<ClubJson>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/club/{clubId}",
        handler: Some(|r| r.to(get_club)),
        tags: &[Tag::Club],
        summary: "A club (获取圈子)",
        params: &[P_CLUB],
        reply: envelope(Res::Schema(of::<ClubJson>()), SUCCESS),
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/club",
        handler: Some(|r| r.to(list_my_clubs)),
        tags: &[Tag::Club],
        summary: "The clubs I have joined, a page (分页获取圈子列表)",
        input: &[KeysetPage::PARAMS],
        reply: envelope(Res::Page(of::<ClubItem>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/club/{clubId}/member",
        handler: Some(|r| r.to(list_members)),
        tags: &[Tag::Club],
        summary: "A club's members, a page (分页获取圈子成员列表)",
        description: "Members only (403 otherwise).",
        params: &[P_CLUB],
        input: &[KeysetPage::PARAMS],
        reply: envelope(Res::Page(of::<UserItem>()), SUCCESS),
        codes: &[BusinessCode::ClubNotFound],
        errors: &[403],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/club/{clubId}/join",
        handler: Some(|r| r.to(join)),
        tags: &[Tag::Club],
        summary: "Join a club (加入圈子)",
        params: &[P_CLUB],
        reply: envelope(Res::Schema(of::<ClubJson>()), SUCCESS),
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/club/{clubId}/leave",
        handler: Some(|r| r.to(leave)),
        tags: &[Tag::Club],
        summary: "Leave a club (退出圈子)",
        params: &[P_CLUB],
        reply: EMPTY,
        codes: &[BusinessCode::ClubNotFound],
        ..BASE
    },
];

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
    let input = NewClub::from_params(&call.params)?;
    let club = state
        .repo
        .run(CreateClub {
            club_id: ClubId::new(),
            uid: call.uid.clone(),
            name: input.name.into_string(),
            cover: input.cover.into_string(),
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
    let uid = call.uid.clone();
    pagination::keyset_list(
        &state,
        &call.params,
        |page| ListMyClubs { uid, page },
        |(joined_at, club)| {
            std::future::ready(Ok(ClubItem {
                club_id: club.club_id.to_string(),
                club_result: ClubJson::new(&club, Some(true)),
                create_time: joined_at,
                sequence_id: pagination::sequence_id(joined_at, club.club_id.as_str()),
            }))
        },
    )
    .await
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
