//! Voice (RTC) tokens for the rooms: Agora AccessToken "006" (default) or
//! AccessToken2 "007". The channel is the room id and the account the user id;
//! a member allowed to speak gets publish-audio, a listener may only join.

pub mod agora;

use agora::{Privilege, TokenError, TokenRequest};

use crate::config::{AgoraTokenVersion, Secret};

/// Issues voice tokens with one Agora app.
pub struct RtcTokens {
    app_id: String,
    certificate: Secret,
    version: AgoraTokenVersion,
    ttl_secs: u32,
}

impl RtcTokens {
    /// Tokens of `app_id`/`certificate`, valid `ttl_secs`.
    pub fn new(
        app_id: String,
        certificate: Secret,
        version: AgoraTokenVersion,
        ttl_secs: u32,
    ) -> Self {
        Self {
            app_id,
            certificate,
            version,
            ttl_secs,
        }
    }

    /// Token lifetime in ms (also how long a token keeps its holder a live member).
    pub fn ttl_ms(&self) -> i64 {
        i64::from(self.ttl_secs) * 1000
    }

    /// A token for `account` in `channel`; `speaker` adds publish-audio.
    pub fn issue(
        &self,
        channel: &str,
        account: &str,
        speaker: bool,
        now_ms: i64,
    ) -> Result<String, TokenError> {
        let issue_ts = u32::try_from(now_ms / 1000).unwrap_or(u32::MAX);
        let privileges: &[Privilege] = if speaker {
            &[Privilege::JoinChannel, Privilege::PublishAudio]
        } else {
            &[Privilege::JoinChannel]
        };
        let request = TokenRequest {
            app_id: &self.app_id,
            app_certificate: self.certificate.expose(),
            channel,
            account,
            salt: rand::random(),
            issue_ts,
            expire_ts: issue_ts.saturating_add(self.ttl_secs.max(1)),
            privileges,
        };
        match self.version {
            AgoraTokenVersion::V006 => agora::build_006(&request),
            AgoraTokenVersion::V007 => agora::build_007(&request),
        }
    }
}
