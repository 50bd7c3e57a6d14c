//! Seed section "User": profiles, blocks, messages, cards.

use actix_web::web;
use huddle_actors::notices;
use huddle_actors::repo::message::{ListMessages, UnreadTotal};
use huddle_actors::repo::page::PageQuery;
use huddle_actors::repo::profile::{GetUserView, InitProfile, UpdateProfile, UserView};
use huddle_actors::repo::social::Entry;
use huddle_actors::repo::social::{
    Block, DeleteCard, IsBlocked, ListBlocks, ListCards, SendCard, Unblock,
};
use huddle_actors::repo::{RepoActor, RepoResult};
use huddle_actors::Uid;

use super::pagination::{self, PageResult};
use super::path_id;
use super::views::{MessageItem, ProfileJson, UserItem};
use crate::auth::{text_limit, Params, Profiled, UserCall};
use crate::envelope::{ok, ok_with, ApiError, ApiResult, BusinessCode, Empty};
use crate::state::AppState;

/// Nickname limit (characters).
pub const NICKNAME_MAX: usize = 32;
/// Bio limit (characters).
pub const BIO_MAX: usize = 300;
/// Avatar URL limit (characters).
pub const URL_MAX: usize = 1024;

/// `/user/*`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/user/profile/init").post(init_profile))
        .service(web::resource("/user/profile").put(update_profile))
        .service(web::resource("/user/block").get(list_blocks))
        .service(web::resource("/user/message").get(list_messages))
        .service(web::resource("/user/message/unread_total").get(unread_total))
        .service(web::resource("/user/card").get(list_cards))
        .service(web::resource("/user/{uid}/profile").get(get_profile))
        .service(
            web::resource("/user/{uid}/block")
                .post(block)
                .delete(unblock),
        )
        .service(
            web::resource("/user/{uid}/card")
                .post(send_card)
                .delete(delete_card),
        );
}

struct ProfileInput {
    nickname: String,
    avatar: String,
    bio: Option<String>,
}

fn profile_input(params: &Params) -> Result<ProfileInput, ApiError> {
    Ok(ProfileInput {
        nickname: text_limit("nickname", params.required("nickname")?, NICKNAME_MAX)?.to_owned(),
        avatar: text_limit("avatar", params.required("avatar")?, URL_MAX)?.to_owned(),
        bio: params
            .get("bio")
            .map(|b| text_limit("bio", b.trim(), BIO_MAX).map(str::to_owned))
            .transpose()?,
    })
}

/// A user with a profile, as `viewer` sees them; 200002 otherwise.
pub async fn existing_user(
    state: &AppState,
    viewer: &Uid,
    uid: &Uid,
) -> Result<UserView, ApiError> {
    state
        .repo
        .run(GetUserView {
            viewer: viewer.clone(),
            uid: uid.clone(),
        })
        .await?
        .ok_or_else(|| ApiError::business(BusinessCode::UserNotFound))
}

async fn init_profile(state: web::Data<AppState>, call: UserCall) -> ApiResult {
    let input = profile_input(&call.params)?;
    let created = state
        .repo
        .run(InitProfile {
            uid: call.uid.clone(),
            nickname: input.nickname,
            avatar: input.avatar,
            bio: input.bio.unwrap_or_default(),
            now: state.clock.now_ms(),
        })
        .await?;
    state.sessions.account_changed(&call.uid);
    if !created {
        return Err(ApiError::business(BusinessCode::ProfileAlreadyInitialised));
    }
    ok(ProfileJson::from(
        &existing_user(&state, &call.uid, &call.uid).await?,
    ))
}

async fn update_profile(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let input = profile_input(&call.params)?;
    state
        .repo
        .run(UpdateProfile {
            uid: call.uid.clone(),
            nickname: input.nickname,
            avatar: input.avatar,
            bio: input.bio,
            now: state.clock.now_ms(),
        })
        .await?;
    ok(ProfileJson::from(
        &existing_user(&state, &call.uid, &call.uid).await?,
    ))
}

async fn get_profile(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let uid = path_id(&path, Uid::parse)?;
    ok(ProfileJson::from(
        &existing_user(&state, &call.uid, &uid).await?,
    ))
}

/// Another user than the caller, who exists.
async fn other_user(state: &AppState, call: &UserCall, path: &str) -> Result<Uid, ApiError> {
    let uid = path_id(path, Uid::parse)?;
    if uid == call.uid {
        return Err(ApiError::BadRequest(
            "uid must be another user than yourself".into(),
        ));
    }
    existing_user(state, &call.uid, &uid).await?;
    Ok(uid)
}

async fn block(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let target = other_user(&state, &call, &path).await?;
    state
        .repo
        .run(Block {
            uid: call.uid.clone(),
            target,
            now: state.clock.now_ms(),
        })
        .await?;
    ok_with(Empty {}, "拉黑成功")
}

async fn unblock(state: web::Data<AppState>, call: Profiled, path: web::Path<String>) -> ApiResult {
    let target = other_user(&state, &call, &path).await?;
    state
        .repo
        .run(Unblock {
            uid: call.uid.clone(),
            target,
        })
        .await?;
    ok_with(Empty {}, "取消拉黑成功")
}

/// A page of users related to the caller (blocked by them, cards they hold).
async fn user_page<M>(
    state: &AppState,
    call: &Profiled,
    query: impl FnOnce(Uid, PageQuery) -> M,
) -> ApiResult
where
    M: actix::Message<Result = RepoResult<Vec<Entry>>> + Send + 'static,
    RepoActor: actix::Handler<M>,
{
    let page = pagination::keyset(&call.params)?;
    let count = page.count;
    let entries = state.repo.run(query(call.uid.clone(), page)).await?;
    let list: Vec<UserItem> = entries
        .iter()
        .map(|e| UserItem::new(e.created_at, &e.user))
        .collect();
    ok(PageResult::new(count, list))
}

async fn list_blocks(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    user_page(&state, &call, |viewer, page| ListBlocks { viewer, page }).await
}

async fn send_card(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let to = other_user(&state, &call, &path).await?;
    let refused = state
        .repo
        .run(IsBlocked {
            by: to.clone(),
            whom: call.uid.clone(),
        })
        .await?;
    if refused {
        return Err(ApiError::business_msg(
            BusinessCode::Default,
            "对方已将你拉黑，无法发送名片",
        ));
    }
    let me = existing_user(&state, &call.uid, &call.uid).await?;
    // The card and its inbox message are one transaction: a crash between
    // them would keep the card and lose the message for good (a retry finds
    // the card and sends nothing).
    let delivered = state
        .repo
        .run(SendCard {
            from: call.uid.clone(),
            notice: notices::card_received(&to, &call.uid, &me.nickname),
            to,
            now: state.clock.now_ms(),
        })
        .await?;
    state.publish_messages(delivered.into_iter().collect());
    ok_with(Empty {}, "对方已收到你的名片")
}

async fn delete_card(
    state: web::Data<AppState>,
    call: Profiled,
    path: web::Path<String>,
) -> ApiResult {
    let owner = other_user(&state, &call, &path).await?;
    state
        .repo
        .run(DeleteCard {
            holder: call.uid.clone(),
            owner,
        })
        .await?;
    ok_with(Empty {}, "删除成功")
}

async fn list_cards(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    user_page(&state, &call, |viewer, page| ListCards { viewer, page }).await
}

async fn list_messages(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    let (count, before) = pagination::numeric(&call.params)?;
    let messages = state
        .repo
        .run(ListMessages {
            uid: call.uid.clone(),
            before,
            count,
        })
        .await?;
    let list: Vec<MessageItem> = messages.iter().map(MessageItem::from).collect();
    ok(PageResult::new(count, list))
}

async fn unread_total(state: web::Data<AppState>, call: Profiled) -> ApiResult {
    ok(state
        .repo
        .run(UnreadTotal {
            uid: call.uid.clone(),
        })
        .await?)
}
