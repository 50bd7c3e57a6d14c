//! The bounded history of a room's events, for `resume`: the last
//! `max_events` frames, none older than `max_age_ms`.

use std::collections::VecDeque;

use crate::outbound::Frame;

/// Recent events of one room, in seq order with no gap.
#[derive(Debug)]
pub struct History {
    /// (seq, ts, frame), oldest first.
    entries: VecDeque<(i64, i64, Frame)>,
    /// Keep at most this many.
    max_events: usize,
    /// Keep none older than this (ms).
    max_age_ms: i64,
}

impl History {
    /// An empty history with these bounds.
    pub fn new(max_events: usize, max_age_ms: i64) -> Self {
        Self {
            entries: VecDeque::new(),
            max_events,
            max_age_ms,
        }
    }

    /// Records the event `seq` (one more than the last recorded).
    pub fn push(&mut self, seq: i64, ts: i64, frame: Frame) {
        if self
            .entries
            .back()
            .is_some_and(|(last, _, _)| *last + 1 != seq)
        {
            // A jump (a new seq block after a failed reservation): older frames
            // can no longer be replayed without a gap.
            self.entries.clear();
        }
        self.entries.push_back((seq, ts, frame));
        self.trim(ts);
    }

    fn trim(&mut self, now: i64) {
        while self.entries.len() > self.max_events {
            self.entries.pop_front();
        }
        while self
            .entries
            .front()
            .is_some_and(|(_, ts, _)| now - *ts > self.max_age_ms)
        {
            self.entries.pop_front();
        }
    }

    /// Every frame after `last_seq` up to `current`, when all of them are still
    /// held; `None` when some are gone (too old, or `last_seq` is not a seq of
    /// this room).
    pub fn since(&mut self, last_seq: i64, current: i64, now: i64) -> Option<Vec<Frame>> {
        self.trim(now);
        if last_seq > current || last_seq < 0 {
            return None;
        }
        if last_seq == current {
            return Some(Vec::new());
        }
        let (first, _, _) = self.entries.front()?;
        if *first > last_seq + 1 {
            return None;
        }
        Some(
            self.entries
                .iter()
                .filter(|(seq, _, _)| *seq > last_seq)
                .map(|(_, _, frame)| frame.clone())
                .collect(),
        )
    }

    /// How many frames are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when none is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: i64) -> Frame {
        format!("{{\"seq\":{seq}}}").into()
    }

    fn filled(n: i64, max_events: usize) -> History {
        let mut h = History::new(max_events, 300_000);
        for seq in 1..=n {
            h.push(seq, 1_000 + seq, frame(seq));
        }
        h
    }

    #[test]
    fn replays_exactly_what_was_missed_in_order() {
        let mut h = filled(20, 256);
        let got = h.since(10, 20, 2_000).unwrap();
        assert_eq!(got, (11..=20).map(frame).collect::<Vec<_>>());
        assert_eq!(h.since(20, 20, 2_000).unwrap(), Vec::<Frame>::new());
    }

    #[test]
    fn refuses_when_the_gap_is_older_than_the_history() {
        let mut h = filled(300, 256);
        assert_eq!(h.len(), 256);
        // 45 is the last one dropped: everything after 44 is not complete
        assert!(h.since(43, 300, 2_000).is_none());
        assert_eq!(h.since(44, 300, 2_000).unwrap().len(), 256);
    }

    #[test]
    fn refuses_when_the_events_are_too_old() {
        let mut h = History::new(256, 5_000);
        h.push(1, 1_000, frame(1));
        h.push(2, 2_000, frame(2));
        assert_eq!(h.since(0, 2, 5_500).unwrap().len(), 2);
        // seq 1 is now older than 5 s
        assert!(h.since(0, 2, 6_500).is_none());
        assert_eq!(h.since(1, 2, 6_500).unwrap(), vec![frame(2)]);
    }

    #[test]
    fn refuses_seqs_from_the_future_or_negative() {
        let mut h = filled(5, 256);
        assert!(h.since(6, 5, 2_000).is_none());
        assert!(h.since(-1, 5, 2_000).is_none());
    }

    #[test]
    fn a_jump_in_seq_forgets_what_came_before() {
        let mut h = filled(5, 256);
        h.push(100, 2_000, frame(100));
        assert_eq!(h.len(), 1);
        assert!(h.since(5, 100, 2_000).is_none());
        assert_eq!(h.since(99, 100, 2_000).unwrap(), vec![frame(100)]);
    }
}
