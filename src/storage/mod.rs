//! Object storage for uploaded images: presigned PUT addresses the app uploads
//! to directly. This module holds the signing of the real protocols; the
//! upload route and the local store come with the upload issue.
//!
//! - [`sigv4`]: AWS Signature Version 4 query presigning (S3 and compatibles).
//! - [`time`]: UTC calendar formatting for signatures (no time-zone crate needed).

pub mod sigv4;
pub mod time;
