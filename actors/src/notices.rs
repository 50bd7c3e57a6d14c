//! The texts of the messages huddle writes to users' inboxes.

use crate::ids::Uid;
use crate::repo::event::Event;
use crate::repo::message::{NewMessage, Origin};
use crate::repo::room::Room;

/// A message to `to` about `origin`, caused by `by`.
fn notice(
    to: &Uid,
    origin: Origin,
    by: &Uid,
    title: &str,
    content: String,
    url: String,
) -> NewMessage {
    NewMessage {
        uid: to.clone(),
        title: title.into(),
        content,
        url,
        origin,
        origin_uid: by.to_string(),
    }
}

/// "X sent you their card."
pub fn card_received(to: &Uid, from: &Uid, from_nickname: &str) -> NewMessage {
    let content = format!("{from_nickname} 给你发送了名片");
    let url = format!("chaoqer://profile/{from}");
    notice(to, Origin::Card, from, "有人给你发送了名片", content, url)
}

/// "X invites you to room R."
pub fn room_invite(to: &Uid, from: &Uid, from_nickname: &str, room: &Room) -> NewMessage {
    let content = format!("{from_nickname} 邀请你加入「{}」", room.name);
    let url = format!("chaoqer://room/{}", room.room_id);
    notice(
        to,
        Origin::RoomInvite,
        from,
        "有人邀请你参加活动",
        content,
        url,
    )
}

/// "Event E starts now." (reminder at the event's time)
pub fn event_reminder(event: &Event, _room: Option<&Room>, to: &Uid) -> NewMessage {
    let content = format!("「{}」马上开始", event.name);
    let url = format!("chaoqer://event/{}", event.event_id);
    notice(
        to,
        Origin::EventReminder,
        &event.uid,
        "日程提醒",
        content,
        url,
    )
}

/// "Event E has started: join room R."
pub fn event_started(event: &Event, room: Option<&Room>, to: &Uid) -> NewMessage {
    let content = format!("「{}」已开始，快来加入", event.name);
    let url = match room {
        Some(room) => format!("chaoqer://room/{}", room.room_id),
        None => format!("chaoqer://event/{}", event.event_id),
    };
    notice(
        to,
        Origin::EventStarted,
        &event.uid,
        "日程已开始",
        content,
        url,
    )
}
