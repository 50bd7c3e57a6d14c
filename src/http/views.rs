//! The JSON shapes of the seed's results, field for field. Flags are 0/1
//! integers ([`Flag`]), times ms integers, ids 32-hex strings.
//!
//! These structs are the one description of each shape: `Serialize` writes
//! the answers and `ToSchema` (utoipa) derives their schemas in `/docs-json`
//! from the same fields, names, `Option`s and `#[serde]` attributes; the
//! `///` line of a field is its description there.

use huddle_actors::repo::club::Club;
use huddle_actors::repo::event::Event;
use huddle_actors::repo::message::StoredMessage;
use huddle_actors::repo::profile::UserView;
use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// A flag on the wire: the integer 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Flag(u8);

impl Flag {
    /// 0.
    pub const NO: Flag = Flag(0);
}

impl From<bool> for Flag {
    fn from(b: bool) -> Self {
        Self(u8::from(b))
    }
}

impl utoipa::PartialSchema for Flag {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([0, 1]))
            .description(Some("A flag: 1 yes, 0 no."))
            .into()
    }
}

impl ToSchema for Flag {}

/// 0/1 for a flag.
pub fn flag(b: bool) -> Flag {
    Flag::from(b)
}

/// `/user/profile/init`, `PUT /user/profile`, `GET /user/{uid}/profile`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Profile)]
pub struct ProfileJson {
    /// The user (32 hex).
    pub uid: String,
    /// Display name.
    pub nickname: String,
    /// Avatar URL.
    pub avatar: String,
    /// Self-description.
    pub bio: String,
    /// I have blocked this user.
    pub blocked: Flag,
}

impl From<&UserView> for ProfileJson {
    fn from(v: &UserView) -> Self {
        Self {
            uid: v.uid.to_string(),
            nickname: v.nickname.clone(),
            avatar: v.avatar.clone(),
            bio: v.bio.clone(),
            blocked: flag(v.blocked),
        }
    }
}

/// `userProfileResult` in lists.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProfileResult {
    /// Avatar URL.
    pub avatar: String,
    /// Self-description.
    pub bio: String,
    /// I have sent this user my card.
    pub send_card: Flag,
    /// Cards this user has received.
    pub card_total: i64,
    /// I have blocked this user.
    pub blocked: Flag,
    /// Display name.
    pub nickname: String,
    /// The user (32 hex).
    pub uid: String,
}

impl From<&UserView> for UserProfileResult {
    fn from(v: &UserView) -> Self {
        Self {
            avatar: v.avatar.clone(),
            bio: v.bio.clone(),
            send_card: flag(v.send_card),
            card_total: v.card_total,
            blocked: flag(v.blocked),
            nickname: v.nickname.clone(),
            uid: v.uid.to_string(),
        }
    }
}

/// A list item pointing at a user (blocks, cards, club members).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserItem {
    /// When the relation began (ms since the epoch).
    pub create_time: i64,
    /// Cursor: pass as `lastId` for the next page.
    pub sequence_id: String,
    /// The user (32 hex).
    pub uid: String,
    /// The user.
    pub user_profile_result: UserProfileResult,
}

impl UserItem {
    /// An item created at `created_at` about `user`.
    pub fn new(created_at: i64, user: &UserView) -> Self {
        Self {
            create_time: created_at,
            sequence_id: super::pagination::sequence_id(created_at, user.uid.as_str()),
            uid: user.uid.to_string(),
            user_profile_result: user.into(),
        }
    }
}

/// A club. `joined` is left out where the seed leaves it out (creation);
/// `inviteOnly` appears only inside a room's `clubResult`, as in the seed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Club)]
pub struct ClubJson {
    /// The club (32 hex).
    pub club_id: String,
    /// Always 0; only inside a room's `clubResult`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub invite_only: Option<Flag>,
    /// Cover image URL.
    pub cover: String,
    /// Created (ms since the epoch).
    pub create_time: i64,
    /// Members.
    pub member_total: i64,
    /// I am a member; absent on creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub joined: Option<Flag>,
    /// Name.
    pub name: String,
    /// The creator (32 hex).
    pub uid: String,
}

impl ClubJson {
    /// `club` as seen by someone who has (`Some`) or has not joined; `None` leaves `joined` out.
    pub fn new(club: &Club, joined: Option<bool>) -> Self {
        Self {
            club_id: club.club_id.to_string(),
            invite_only: None,
            cover: club.cover.clone(),
            create_time: club.created_at,
            member_total: club.member_total,
            joined: joined.map(flag),
            name: club.name.clone(),
            uid: club.uid.to_string(),
        }
    }
}

/// `memberList` of a room.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Member)]
pub struct MemberJson {
    /// May speak (the host and those the host allowed).
    pub allow_live: Flag,
    /// Avatar URL.
    pub avatar: String,
    /// Self-description.
    pub bio: String,
    /// I have blocked this user.
    pub blocked: Flag,
    /// Cards this user has received.
    pub card_total: i64,
    /// Display name.
    pub nickname: String,
    /// I have sent this user my card.
    pub send_card: Flag,
    /// The user (32 hex).
    pub uid: String,
}

impl MemberJson {
    /// A member as the viewer sees them.
    pub fn new(user: &UserView, allow_live: bool) -> Self {
        Self {
            allow_live: flag(allow_live),
            avatar: user.avatar.clone(),
            bio: user.bio.clone(),
            blocked: flag(user.blocked),
            card_total: user.card_total,
            nickname: user.nickname.clone(),
            send_card: flag(user.send_card),
            uid: user.uid.to_string(),
        }
    }
}

/// A room (`GET /room/{id}`, `roomResult`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Room)]
pub struct RoomJson {
    /// The club; empty for an invite-only room.
    pub club_id: String,
    /// The club; absent for an invite-only room.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub club_result: Option<ClubJson>,
    /// Opened (ms since the epoch).
    pub create_time: i64,
    /// Private: only invited people may join.
    pub invite_only: Flag,
    /// The live members.
    pub member_list: Vec<MemberJson>,
    /// Live members.
    pub member_total: i64,
    /// Topic.
    pub name: String,
    /// The room (32 hex).
    pub room_id: String,
    /// The host (32 hex).
    pub uid: String,
}

/// An event; `roomId`/`roomResult` once started.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Event)]
pub struct EventJson {
    /// Created (ms since the epoch).
    pub create_time: i64,
    /// Description.
    pub desc: String,
    /// The event (32 hex).
    pub event_id: String,
    /// When it starts (ms since the epoch).
    pub event_time: i64,
    /// 1 once started.
    pub event_time_status: Flag,
    /// Hosts and guests (uids).
    pub member_uid_list: Vec<String>,
    /// Title.
    pub name: String,
    /// I subscribed to its reminder.
    pub notify: Flag,
    /// The room it opened; absent until started.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub room_id: Option<String>,
    /// The room it opened; absent until started.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub room_result: Option<RoomJson>,
    /// The creator (32 hex).
    pub uid: String,
}

impl EventJson {
    /// `event` as a viewer sees it (`notify`), with its room when started.
    pub fn new(event: &Event, notify: bool, room: Option<RoomJson>) -> Self {
        Self {
            create_time: event.created_at,
            desc: event.description.clone(),
            event_id: event.event_id.to_string(),
            event_time: event.event_time,
            event_time_status: flag(event.room_id.is_some()),
            member_uid_list: event.members.iter().map(ToString::to_string).collect(),
            name: event.name.clone(),
            notify: flag(notify),
            room_id: event.room_id.as_ref().map(ToString::to_string),
            room_result: room,
            uid: event.uid.to_string(),
        }
    }
}

/// `messageBody`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageBody {
    /// Title.
    pub title: String,
    /// Text.
    pub content: String,
    /// App link.
    pub url: String,
}

/// `userMessageResult`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Message)]
pub struct MessageJson {
    /// When it was sent (ms since the epoch).
    pub create_time: i64,
    /// What it says.
    pub message_body: MessageBody,
    /// Id (also the cursor).
    pub message_id: i64,
    /// Always 0.
    pub message_type: u8,
    /// What caused it (0 system, 1 card, 2 room invite, ...).
    pub origin_push_type: i64,
    /// Who caused it; empty for the system.
    pub origin_uid: String,
    /// The recipient (32 hex).
    pub uid: String,
    /// Not read yet.
    pub unread: Flag,
}

/// A `/user/message` list item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    /// Id.
    pub message_id: i64,
    /// Cursor: pass as `lastId` for the next page.
    pub sequence_id: String,
    /// The message.
    pub user_message_result: MessageJson,
}

impl From<&StoredMessage> for MessageJson {
    fn from(m: &StoredMessage) -> Self {
        Self {
            create_time: m.created_at,
            message_body: MessageBody {
                title: m.title.clone(),
                content: m.content.clone(),
                url: m.url.clone(),
            },
            message_id: m.message_id,
            message_type: 0,
            origin_push_type: m.origin_push_type,
            origin_uid: m.origin_uid.clone(),
            uid: m.uid.to_string(),
            unread: flag(m.unread),
        }
    }
}

impl From<&StoredMessage> for MessageItem {
    fn from(m: &StoredMessage) -> Self {
        Self {
            message_id: m.message_id,
            sequence_id: m.message_id.to_string(),
            user_message_result: MessageJson::from(m),
        }
    }
}
