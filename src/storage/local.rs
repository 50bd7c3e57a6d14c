//! The embedded default store: images as files under a directory. Upload
//! addresses point at this server (`PUT /upload/{key}?Expires=&Signature=`),
//! signed with a key only this server holds; the PUT is checked (signature,
//! expiry, size, image content) and the image is then served at `/{key}`.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::key::ObjectKey;
use super::StorageError;

/// Content types an upload may declare.
pub const IMAGE_CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// The image type of `bytes` by their magic numbers, if they are an image.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// Files under a directory.
#[derive(Clone)]
pub struct LocalStore {
    dir: PathBuf,
    signing_key: Vec<u8>,
}

impl LocalStore {
    /// A store in `dir`, signing upload addresses with `signing_key`.
    pub fn new(dir: impl Into<PathBuf>, signing_key: Vec<u8>) -> Self {
        Self {
            dir: dir.into(),
            signing_key,
        }
    }

    /// The MAC over what an upload address grants: PUT of `key` until `expires`.
    fn mac(&self, key: &ObjectKey, expires: i64) -> Hmac<Sha256> {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.signing_key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
        };
        mac.update(format!("PUT\n{key}\n{expires}").as_bytes());
        mac
    }

    /// The presigned PUT address of `key` on `base`, valid until `expires` (Unix s).
    pub fn upload_address(&self, base: &str, key: &ObjectKey, expires: i64) -> String {
        format!(
            "{base}/upload/{key}?Expires={expires}&Signature={}",
            hex::encode(self.mac(key, expires).finalize().into_bytes())
        )
    }

    /// Checks a PUT's `Expires` and `Signature` at `now_secs`.
    pub fn verify(
        &self,
        key: &ObjectKey,
        expires: &str,
        signature: &str,
        now_secs: i64,
    ) -> Result<(), StorageError> {
        let expires: i64 = expires
            .parse()
            .map_err(|_| StorageError::Refused("Expires must be Unix seconds".into()))?;
        let given = hex::decode(signature)
            .map_err(|_| StorageError::Refused("Signature is not hex".into()))?;
        self.mac(key, expires)
            .verify_slice(&given)
            .map_err(|_| StorageError::Refused("Signature does not match".into()))?;
        if now_secs > expires {
            return Err(StorageError::Refused(
                "the upload address has expired".into(),
            ));
        }
        Ok(())
    }

    fn path_of(&self, key: &ObjectKey) -> PathBuf {
        // ObjectKey only holds hex ids and a fixed directory name: no `..`.
        self.dir.join(key.to_string())
    }

    /// Stores `bytes` as `key`, atomically (a reader never sees half a file).
    pub async fn write(&self, key: &ObjectKey, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path_of(key);
        let parent = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| StorageError::Io(format!("cannot create {}: {e}", parent.display())))?;
        let partial = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&partial, bytes)
            .await
            .map_err(|e| StorageError::Io(format!("cannot write {}: {e}", partial.display())))?;
        if let Err(e) = tokio::fs::rename(&partial, &path).await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(StorageError::Io(format!(
                "cannot move the upload to {}: {e}",
                path.display()
            )));
        }
        Ok(())
    }

    /// The bytes of `key`, if uploaded.
    pub async fn read(&self, key: &ObjectKey) -> Result<Option<Vec<u8>>, StorageError> {
        match tokio::fs::read(self.path_of(key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::Io(format!("cannot read {key}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ObjectKey {
        ObjectKey::parse(
            "image/861da0739b7542e69b81fe4baebfd816/cover/56da4708cf5348708c775f0cb09d7520.jpg",
        )
        .expect("valid key")
    }

    #[test]
    fn addresses_verify_until_they_expire_and_not_for_another_key() {
        let store = LocalStore::new("/nonexistent", b"k".to_vec());
        let url = store.upload_address("http://h", &key(), 1_000);
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let signature = query.split("Signature=").nth(1).unwrap_or_default();
        assert!(store.verify(&key(), "1000", signature, 1_000).is_ok());
        assert!(
            store.verify(&key(), "1000", signature, 1_001).is_err(),
            "expired"
        );
        assert!(
            store.verify(&key(), "1001", signature, 0).is_err(),
            "another expiry"
        );
        let other = ObjectKey::parse(
            "image/861da0739b7542e69b81fe4baebfd816/avatar/56da4708cf5348708c775f0cb09d7520.jpg",
        )
        .expect("valid key");
        assert!(
            store.verify(&other, "1000", signature, 0).is_err(),
            "another key"
        );
        let stranger = LocalStore::new("/nonexistent", b"other".to_vec());
        assert!(
            stranger.verify(&key(), "1000", signature, 0).is_err(),
            "another server"
        );
    }

    #[test]
    fn only_image_bytes_sniff_as_images() {
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_image(b"GIF89a..."), Some("image/gif"));
        assert_eq!(
            sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_image(b"<html>"), None);
        assert_eq!(sniff_image(b""), None);
    }
}
