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

use super::inputs::{inputs, AvatarUrl, Bio, FromParams, Nickname};
use super::openapi::{envelope, of, Auth, Method, Res, RouteDoc, Tag, BASE, P_UID};
use super::pagination::{self, KeysetPage, NumericPage, PageResult};
use super::path_id;
use super::views::{MessageItem, ProfileJson, UserItem};
use crate::auth::{Profiled, UserCall};
use crate::envelope::{ok, ok_with, ApiError, ApiResult, BusinessCode, Empty, SUCCESS};
use crate::state::AppState;

/// `POST /user/{uid}/block`'s message.
pub const BLOCKED: &str = "拉黑成功";
/// `DELETE /user/{uid}/block`'s message.
pub const UNBLOCKED: &str = "取消拉黑成功";
/// `POST /user/{uid}/card`'s message.
pub const CARD_SENT: &str = "对方已收到你的名片";
/// `DELETE /user/{uid}/card`'s message.
pub const CARD_DELETED: &str = "删除成功";

/// The section's routes in `/docs-json`.
pub(crate) const DOCS: &[RouteDoc] = &[
    RouteDoc {
        method: Method::Post,
        path: "/user/profile/init",
        handler: Some(|r| r.to(init_profile)),
        tags: &[Tag::User],
        summary: "Initialise my profile (初始化用户资料)",
        auth: Auth::User,
        input: &[ProfileInput::PARAMS],
        reply: envelope(Res::Schema(of::<ProfileJson>()), SUCCESS),
        codes: &[BusinessCode::ProfileAlreadyInitialised],
        ..BASE
    },
    RouteDoc {
        method: Method::Put,
        path: "/user/profile",
        handler: Some(|r| r.to(update_profile)),
        tags: &[Tag::User],
        summary: "Update my profile (更新用户资料)",
        description: "`bio` absent keeps the current one.",
        input: &[ProfileInput::PARAMS],
        reply: envelope(Res::Schema(of::<ProfileJson>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/{uid}/profile",
        handler: Some(|r| r.to(get_profile)),
        tags: &[Tag::User],
        summary: "A user's profile (获取用户资料)",
        params: &[P_UID],
        reply: envelope(Res::Schema(of::<ProfileJson>()), SUCCESS),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/block",
        handler: Some(|r| r.to(list_blocks)),
        tags: &[Tag::User],
        summary: "The users I have blocked, a page (分页获取黑名单列表)",
        input: &[KeysetPage::PARAMS],
        reply: envelope(Res::Page(of::<UserItem>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/user/{uid}/block",
        handler: Some(|r| r.to(block)),
        tags: &[Tag::User],
        summary: "Block a user (拉黑用户)",
        description: "`uid` must be another, existing user (400 for yourself).",
        params: &[P_UID],
        reply: envelope(Res::Empty, BLOCKED),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/user/{uid}/block",
        handler: Some(|r| r.to(unblock)),
        tags: &[Tag::User],
        summary: "Unblock a user (取消拉黑用户)",
        description: "`uid` must be another, existing user (400 for yourself); unblocking someone who is not blocked succeeds.",
        params: &[P_UID],
        reply: envelope(Res::Empty, UNBLOCKED),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/message",
        handler: Some(|r| r.to(list_messages)),
        tags: &[Tag::User],
        summary: "My messages, a page (分页获取消息列表)",
        description: "Newest first; the returned messages are marked read. `lastId` is the numeric `sequenceId` of the previous page's last item.",
        input: &[NumericPage::PARAMS],
        reply: envelope(Res::Page(of::<MessageItem>()), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/message/unread_total",
        handler: Some(|r| r.to(unread_total)),
        tags: &[Tag::User],
        summary: "How many of my messages are unread (获取未读消息总数)",
        reply: envelope(Res::Int("Unread messages."), SUCCESS),
        ..BASE
    },
    RouteDoc {
        method: Method::Post,
        path: "/user/{uid}/card",
        handler: Some(|r| r.to(send_card)),
        tags: &[Tag::User],
        summary: "Send my card to a user (发送名片)",
        description: "The user gets a message the first time. Refused with business code 0 when they have blocked me.",
        params: &[P_UID],
        reply: envelope(Res::Empty, CARD_SENT),
        codes: &[BusinessCode::Default, BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Delete,
        path: "/user/{uid}/card",
        handler: Some(|r| r.to(delete_card)),
        tags: &[Tag::User],
        summary: "Remove a user's card from my holder (删除名片)",
        description: "`uid` must be another, existing user (400 for yourself).",
        params: &[P_UID],
        reply: envelope(Res::Empty, CARD_DELETED),
        codes: &[BusinessCode::UserNotFound],
        ..BASE
    },
    RouteDoc {
        method: Method::Get,
        path: "/user/card",
        handler: Some(|r| r.to(list_cards)),
        tags: &[Tag::User],
        summary: "The cards I have received, a page (分页获取名片列表)",
        input: &[KeysetPage::PARAMS],
        reply: envelope(Res::Page(of::<UserItem>()), SUCCESS),
        ..BASE
    },
];

inputs! {
    /// `POST /user/profile/init`, `PUT /user/profile`.
    pub struct ProfileInput {
        nickname: required Nickname = "nickname", Body, "Display name (昵称).";
        avatar: required AvatarUrl = "avatar", Body, "Avatar URL (头像), e.g. an `imageURL` from `POST /aliyun/image/upload`.";
        bio: present Bio = "bio", Body, "Self-description (介绍); blank clears it.";
    }
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
    let input = ProfileInput::from_params(&call.params)?;
    let created = state
        .repo
        .run(InitProfile {
            uid: call.uid.clone(),
            nickname: input.nickname.into_string(),
            avatar: input.avatar.into_string(),
            bio: input.bio.map(Bio::into_string).unwrap_or_default(),
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
    let input = ProfileInput::from_params(&call.params)?;
    state
        .repo
        .run(UpdateProfile {
            uid: call.uid.clone(),
            nickname: input.nickname.into_string(),
            avatar: input.avatar.into_string(),
            bio: input.bio.map(Bio::into_string),
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
    ok_with(Empty {}, BLOCKED)
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
    ok_with(Empty {}, UNBLOCKED)
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
    let viewer = call.uid.clone();
    pagination::keyset_list(
        state,
        &call.params,
        |page| query(viewer, page),
        |e: Entry| std::future::ready(Ok(UserItem::new(e.created_at, &e.user))),
    )
    .await
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
    ok_with(Empty {}, CARD_SENT)
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
    ok_with(Empty {}, CARD_DELETED)
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
