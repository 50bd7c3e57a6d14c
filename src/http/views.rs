//! The JSON shapes of the seed's results, field for field. Flags are 0/1
//! integers, times ms integers, ids 32-hex strings.

use huddle_actors::repo::club::Club;
use huddle_actors::repo::event::Event;
use huddle_actors::repo::message::StoredMessage;
use huddle_actors::repo::profile::UserView;
use serde::Serialize;

/// 0/1 for a flag.
pub fn flag(b: bool) -> u8 {
    u8::from(b)
}

/// `/user/profile/init`, `PUT /user/profile`, `GET /user/{uid}/profile`.
#[derive(Debug, Serialize)]
pub struct ProfileJson {
    pub uid: String,
    pub nickname: String,
    pub avatar: String,
    pub bio: String,
    pub blocked: u8,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfileResult {
    pub avatar: String,
    pub bio: String,
    pub send_card: u8,
    pub card_total: i64,
    pub blocked: u8,
    pub nickname: String,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserItem {
    pub create_time: i64,
    pub sequence_id: String,
    pub uid: String,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClubJson {
    pub club_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_only: Option<u8>,
    pub cover: String,
    pub create_time: i64,
    pub member_total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined: Option<u8>,
    pub name: String,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberJson {
    pub allow_live: u8,
    pub avatar: String,
    pub bio: String,
    pub blocked: u8,
    pub card_total: i64,
    pub nickname: String,
    pub send_card: u8,
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomJson {
    pub club_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub club_result: Option<ClubJson>,
    pub create_time: i64,
    pub invite_only: u8,
    pub member_list: Vec<MemberJson>,
    pub member_total: i64,
    pub name: String,
    pub room_id: String,
    pub uid: String,
}

/// An event; `roomId`/`roomResult` once started.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventJson {
    pub create_time: i64,
    pub desc: String,
    pub event_id: String,
    pub event_time: i64,
    pub event_time_status: u8,
    pub member_uid_list: Vec<String>,
    pub name: String,
    pub notify: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_result: Option<RoomJson>,
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
#[derive(Debug, Serialize)]
pub struct MessageBody {
    pub title: String,
    pub content: String,
    pub url: String,
}

/// `userMessageResult`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageJson {
    pub create_time: i64,
    pub message_body: MessageBody,
    pub message_id: i64,
    pub message_type: u8,
    pub origin_push_type: i64,
    pub origin_uid: String,
    pub uid: String,
    pub unread: u8,
}

/// A `/user/message` list item.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageItem {
    pub message_id: i64,
    pub sequence_id: String,
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
