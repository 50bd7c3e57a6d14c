//! The room's member list as JSON text, kept between snapshots.
//!
//! Every `join` ack carries the whole list, so building it from scratch (sort,
//! clone, serialize every member) made a join storm quadratic in work
//! (docs/performance.md). Members enter at the end of the list, so a join
//! appends one member to the text; any other change only marks the text stale,
//! and the next snapshot rebuilds it once.

use serde_json::value::RawValue;

use super::frames::MemberJson;

/// The list as of one seq, or stale.
#[derive(Default)]
pub(super) struct MembersJson {
    /// The seq the text is true for; `None`: stale.
    valid_at: Option<i64>,
    /// The members' JSON objects joined by commas, in list order.
    items: String,
}

impl MembersJson {
    /// The text no longer matches the members (a change without a seq).
    pub(super) fn invalidate(&mut self) {
        self.valid_at = None;
    }

    /// Event `seq` added `member` at the end of the list: if the text was true
    /// just before it, it stays true with the member appended.
    pub(super) fn appended(&mut self, seq: i64, member: &MemberJson) {
        if self.valid_at != Some(seq - 1) {
            return;
        }
        let Ok(json) = serde_json::to_string(member) else {
            self.valid_at = None;
            return;
        };
        if !self.items.is_empty() {
            self.items.push(',');
        }
        self.items.push_str(&json);
        self.valid_at = Some(seq);
    }

    /// The list as a JSON array at `seq`, rebuilt from `members` when stale.
    pub(super) fn array(
        &mut self,
        seq: i64,
        members: impl FnOnce() -> Vec<MemberJson>,
    ) -> Box<RawValue> {
        if self.valid_at != Some(seq) {
            self.items = members()
                .iter()
                .filter_map(|m| serde_json::to_string(m).ok())
                .collect::<Vec<_>>()
                .join(",");
            self.valid_at = Some(seq);
        }
        RawValue::from_string(format!("[{}]", self.items))
            .unwrap_or_else(|_| unreachable!("serialized members form a JSON array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Uid;

    fn member(name: &str) -> MemberJson {
        MemberJson {
            uid: Uid::new(),
            nickname: name.into(),
            avatar: String::new(),
            allow_live: 0,
            hand_raised: 0,
            joined_at: 1,
        }
    }

    fn names(array: &RawValue) -> Vec<String> {
        let v: Vec<serde_json::Value> = serde_json::from_str(array.get()).unwrap();
        v.iter()
            .map(|m| m["nickname"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn joins_append_to_a_fresh_list_and_anything_else_rebuilds_it() {
        let mut list = MembersJson::default();
        let (a, b, c) = (member("a"), member("b"), member("c"));
        assert_eq!(names(&list.array(1, || vec![a.clone()])), ["a"]);
        list.appended(2, &b);
        // appended: the builder is not asked again
        assert_eq!(names(&list.array(2, || unreachable!())), ["a", "b"]);
        // a seq the text has not seen (e.g. a hand raised) rebuilds it
        list.appended(4, &c);
        assert_eq!(
            names(&list.array(4, || vec![a.clone(), c.clone()])),
            ["a", "c"]
        );
        list.invalidate();
        assert_eq!(names(&list.array(4, || vec![c.clone()])), ["c"]);
        assert_eq!(names(&list.array(4, Vec::new)), ["c"]);
    }

    #[test]
    fn an_empty_room_is_an_empty_array() {
        let mut list = MembersJson::default();
        assert_eq!(list.array(0, Vec::new).get(), "[]");
        list.appended(1, &member("a"));
        assert_eq!(names(&list.array(1, || unreachable!())), ["a"]);
    }
}
