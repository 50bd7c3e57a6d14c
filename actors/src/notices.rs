//! The texts of the messages huddle writes to users' inboxes.

use crate::ids::Uid;
use crate::repo::event::Event;
use crate::repo::message::{NewMessage, Origin};
use crate::repo::room::Room;

/// "X sent you their card."
pub fn card_received(to: &Uid, from: &Uid, from_nickname: &str) -> NewMessage {
    NewMessage {
        uid: to.clone(),
        title: "有人给你发送了名片".into(),
        content: format!("{from_nickname} 给你发送了名片"),
        url: format!("chaoqer://profile/{from}"),
        origin: Origin::Card,
        origin_uid: from.to_string(),
    }
}

/// "X invites you to room R."
pub fn room_invite(to: &Uid, from: &Uid, from_nickname: &str, room: &Room) -> NewMessage {
    NewMessage {
        uid: to.clone(),
        title: "有人邀请你参加活动".into(),
        content: format!("{from_nickname} 邀请你加入「{}」", room.name),
        url: format!("chaoqer://room/{}", room.room_id),
        origin: Origin::RoomInvite,
        origin_uid: from.to_string(),
    }
}

/// "Event E starts now." (reminder at the event's time)
pub fn event_reminder(event: &Event, _room: Option<&Room>, to: &Uid) -> NewMessage {
    NewMessage {
        uid: to.clone(),
        title: "日程提醒".into(),
        content: format!("「{}」马上开始", event.name),
        url: format!("chaoqer://event/{}", event.event_id),
        origin: Origin::EventReminder,
        origin_uid: event.uid.to_string(),
    }
}

/// "Event E has started: join room R."
pub fn event_started(event: &Event, room: Option<&Room>, to: &Uid) -> NewMessage {
    let url = match room {
        Some(room) => format!("chaoqer://room/{}", room.room_id),
        None => format!("chaoqer://event/{}", event.event_id),
    };
    NewMessage {
        uid: to.clone(),
        title: "日程已开始".into(),
        content: format!("「{}」已开始，快来加入", event.name),
        url,
        origin: Origin::EventStarted,
        origin_uid: event.uid.to_string(),
    }
}
