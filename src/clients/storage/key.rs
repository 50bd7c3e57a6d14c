//! Object keys of uploaded images: `image/{uid}/{imageDir}/{imageId}.jpg`.

use std::fmt;

use huddle_actors::{ImageId, Uid};

/// The seed's image directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageDir {
    /// 头像
    Avatar,
    /// 封面
    Cover,
    /// 活动
    Room,
    /// 反馈
    Feedback,
}

impl ImageDir {
    /// Every wire name, in order.
    pub const NAMES: &'static [&'static str] = &["avatar", "cover", "room", "feedback"];

    /// Parses `avatar | cover | room | feedback`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "avatar" => Ok(Self::Avatar),
            "cover" => Ok(Self::Cover),
            "room" => Ok(Self::Room),
            "feedback" => Ok(Self::Feedback),
            other => Err(format!(
                "imageDir must be avatar, cover, room or feedback, not {other:?}"
            )),
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avatar => "avatar",
            Self::Cover => "cover",
            Self::Room => "room",
            Self::Feedback => "feedback",
        }
    }
}

/// A validated object key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    /// Owner.
    pub uid: Uid,
    /// Directory.
    pub dir: ImageDir,
    /// Image id.
    pub image_id: ImageId,
}

impl ObjectKey {
    /// Parses `image/{uid}/{dir}/{imageId}.jpg`; anything else is refused, so a
    /// key can never name a path outside its directory.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not an image key (image/<uid>/<dir>/<imageId>.jpg)");
        let mut parts = text.split('/');
        let (Some("image"), Some(uid), Some(dir), Some(file), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        let id = file.strip_suffix(".jpg").ok_or_else(bad)?;
        Ok(Self {
            uid: Uid::parse(uid).map_err(|_| bad())?,
            dir: ImageDir::parse(dir).map_err(|_| bad())?,
            image_id: ImageId::parse(id).map_err(|_| bad())?,
        })
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "image/{}/{}/{}.jpg",
            self.uid,
            self.dir.as_str(),
            self.image_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_refuse_anything_else() {
        let text =
            "image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg";
        let key = ObjectKey::parse(text).expect("the seed's key parses");
        assert_eq!(key.dir, ImageDir::Cover);
        assert_eq!(key.to_string(), text);
        for bad in [
            "",
            "image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.png",
            "image/861da0739b7542e69b81fe4baebfd816/other/56da4708cf5348708c775f0cb09d7520.jpg",
            "image/../cover/56da4708cf5348708c775f0cb09d7520.jpg",
            "image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg/x",
            "/image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_documented_names_are_the_parsed_ones() {
        for name in ImageDir::NAMES {
            assert_eq!(ImageDir::parse(name).map(ImageDir::as_str), Ok(*name));
        }
        assert!(ImageDir::parse("other").is_err());
    }
}
