//! Voice (RTC) tokens for the rooms: Agora AccessToken "006" and AccessToken2 "007".

pub mod agora;
