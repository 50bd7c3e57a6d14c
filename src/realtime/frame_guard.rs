//! A guard in front of the WebSocket codec that refuses a frame as soon as its
//! header declares more than the frame cap.
//!
//! actix-http's parser checks a frame's length against the cap only once the
//! whole frame has arrived, so a client declaring a 1 GiB frame would have the
//! server buffer everything it sends of it. [`FrameGuard`] follows the byte
//! stream frame by frame (header, then skipping the payload) and ends the
//! stream with [`OVERSIZED`] at the first header over the cap: the session
//! closes with 1009 having buffered at most one header.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_http::error::PayloadError;
use bytes::Bytes;
use futures_util::Stream;

/// The error text a guarded stream ends with when a frame is over the cap.
pub const OVERSIZED: &str = "websocket frame larger than the frame cap";

/// Where in the byte stream the guard is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Reading a header: the bytes so far.
    Header { bytes: [u8; 14], have: usize },
    /// Inside a payload: bytes left.
    Payload { left: u64 },
}

/// Follows WebSocket frame boundaries in a byte stream from a client.
#[derive(Debug, Clone)]
pub struct FrameScanner {
    max_frame_bytes: u64,
    position: Position,
}

impl FrameScanner {
    /// A scanner refusing frames over `max_frame_bytes`.
    pub fn new(max_frame_bytes: usize) -> Self {
        Self {
            max_frame_bytes: u64::try_from(max_frame_bytes).unwrap_or(u64::MAX),
            position: Position::Header {
                bytes: [0; 14],
                have: 0,
            },
        }
    }

    /// Reads `chunk`; `Err` with the declared length once a header is over the cap.
    pub fn scan(&mut self, mut chunk: &[u8]) -> Result<(), u64> {
        while !chunk.is_empty() {
            match &mut self.position {
                Position::Payload { left } => {
                    let step = usize::try_from(*left).map_or(chunk.len(), |l| l.min(chunk.len()));
                    *left -= step as u64;
                    chunk = &chunk[step..];
                    if *left == 0 {
                        self.position = Position::Header {
                            bytes: [0; 14],
                            have: 0,
                        };
                    }
                }
                Position::Header { bytes, have } => {
                    bytes[*have] = chunk[0];
                    *have += 1;
                    chunk = &chunk[1..];
                    if let Some(length) = header_complete(&bytes[..*have]) {
                        if length > self.max_frame_bytes {
                            return Err(length);
                        }
                        self.position = if length == 0 {
                            Position::Header {
                                bytes: [0; 14],
                                have: 0,
                            }
                        } else {
                            Position::Payload { left: length }
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

/// The payload length once `header` holds a whole frame header.
fn header_complete(header: &[u8]) -> Option<u64> {
    let [_, second, rest @ ..] = header else {
        return None;
    };
    let masked = second & 0x80 != 0;
    let mask_len = if masked { 4 } else { 0 };
    let (length, ext_len) = match second & 0x7F {
        126 => (
            u64::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?])),
            2,
        ),
        127 => {
            let ext: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            (u64::from_be_bytes(ext), 8)
        }
        short => (u64::from(short), 0),
    };
    (rest.len() == ext_len + mask_len).then_some(length)
}

/// A client's byte stream with a [`FrameScanner`] on it.
pub struct FrameGuard<S> {
    inner: S,
    scanner: FrameScanner,
    failed: bool,
}

impl<S> FrameGuard<S> {
    /// Guards `inner` with the cap `max_frame_bytes`.
    pub fn new(inner: S, max_frame_bytes: usize) -> Self {
        Self {
            inner,
            scanner: FrameScanner::new(max_frame_bytes),
            failed: false,
        }
    }
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => match self.scanner.scan(&chunk) {
                Ok(()) => Poll::Ready(Some(Ok(chunk))),
                Err(_) => {
                    self.failed = true;
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::other(
                        OVERSIZED,
                    )))))
                }
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame header for `len` payload bytes.
    fn header(len: u64) -> Vec<u8> {
        let mut h = vec![0x81];
        if len < 126 {
            h.push(0x80 | len as u8);
        } else if len <= u64::from(u16::MAX) {
            h.push(0x80 | 126);
            h.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            h.push(0x80 | 127);
            h.extend_from_slice(&len.to_be_bytes());
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    fn frame(len: usize) -> Vec<u8> {
        let mut f = header(len as u64);
        f.extend(std::iter::repeat_n(b'x', len));
        f
    }

    #[test]
    fn frames_up_to_the_cap_pass_in_any_chunking() {
        let mut stream = Vec::new();
        for len in [0, 1, 125, 126, 1000, 65_535, 65_536] {
            stream.extend(frame(len));
        }
        for chunk_size in [1, 2, 7, 4096, stream.len()] {
            let mut s = FrameScanner::new(65_536);
            for chunk in stream.chunks(chunk_size) {
                assert_eq!(s.scan(chunk), Ok(()), "chunks of {chunk_size}");
            }
            assert_eq!(
                s.position,
                Position::Header {
                    bytes: [0; 14],
                    have: 0
                },
                "ends on a boundary"
            );
        }
    }

    #[test]
    fn a_header_over_the_cap_is_refused_before_its_payload() {
        for declared in [65_537, 1 << 20, 1 << 40] {
            let mut s = FrameScanner::new(65_536);
            let mut bytes = frame(10);
            bytes.extend(header(declared));
            assert_eq!(s.scan(&bytes), Err(declared), "{declared}");
        }
        // byte by byte: refused at the header's last byte
        let mut s = FrameScanner::new(1024);
        let mut bytes = header(2048);
        let last = bytes.pop().unwrap_or_default();
        for b in &bytes {
            assert_eq!(s.scan(&[*b]), Ok(()));
        }
        assert_eq!(s.scan(&[last]), Err(2048));
    }

    #[test]
    fn an_oversized_frame_after_many_small_ones_is_found() {
        let mut s = FrameScanner::new(100);
        for _ in 0..1_000 {
            assert_eq!(s.scan(&frame(100)), Ok(()));
        }
        assert_eq!(s.scan(&header(101)), Err(101));
    }

    #[test]
    fn unmasked_headers_are_followed_too() {
        // the codec refuses unmasked client frames; the scanner must not lose track
        let mut s = FrameScanner::new(10);
        assert_eq!(s.scan(&[0x81, 5, b'h', b'e', b'l', b'l', b'o']), Ok(()));
        assert_eq!(s.scan(&[0x81, 11]), Err(11));
    }
}
