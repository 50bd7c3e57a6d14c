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
    /// A failed write leaves nothing behind: no file under `key`, no partial
    /// file. A full disk (or quota) answers [`StorageError::Full`].
    pub async fn write(&self, key: &ObjectKey, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path_of(key);
        let parent = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| io_error(format!("cannot create {}", parent.display()), &e))?;
        let partial = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
        write_then_rename(&partial, &path, bytes).await
    }

    /// Removes the partial files (`*.part-<uuid>`) a crash in the middle of a
    /// write left under the store's directory; answers how many. Run at
    /// start, before any upload can be in flight.
    pub fn remove_leftovers(&self) -> std::io::Result<usize> {
        fn walk(dir: &Path, removed: &mut usize) -> std::io::Result<()> {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let path = entry.path();
                if entry.file_type()?.is_dir() {
                    walk(&path, removed)?;
                } else if path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.starts_with("part-"))
                {
                    std::fs::remove_file(&path)?;
                    *removed += 1;
                }
            }
            Ok(())
        }
        let mut removed = 0;
        walk(&self.dir, &mut removed)?;
        Ok(removed)
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

/// Writes `bytes` to `partial`, then renames it to `path`; on any failure the
/// partial file is removed.
async fn write_then_rename(partial: &Path, path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    if let Err(e) = tokio::fs::write(partial, bytes).await {
        remove_partial(partial).await;
        return Err(io_error(format!("cannot write {}", partial.display()), &e));
    }
    if let Err(e) = tokio::fs::rename(partial, path).await {
        remove_partial(partial).await;
        return Err(io_error(
            format!("cannot move the upload to {}", path.display()),
            &e,
        ));
    }
    Ok(())
}

async fn remove_partial(partial: &Path) {
    match tokio::fs::remove_file(partial).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %partial.display(), error = %e, "cannot remove a partial upload")
        }
    }
}

/// Whether `e` says the disk or the quota is full (ENOSPC, EDQUOT, EFBIG).
fn is_out_of_space(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
    )
}

/// `e` while doing `what`, as a storage error.
fn io_error(what: String, e: &std::io::Error) -> StorageError {
    if is_out_of_space(e) {
        StorageError::Full(format!("{what}: {e}"))
    } else {
        StorageError::Io(format!("{what}: {e}"))
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

    /// Every entry under `dir`, recursively, relative to it.
    fn files_under(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push(p.strip_prefix(dir).unwrap_or(&p).display().to_string());
                }
            }
        }
        out
    }

    /// A write that fails half-way (here: into `/dev/full`, which answers
    /// ENOSPC like a full disk) leaves no partial file and says "full".
    #[cfg(unix)]
    #[tokio::test]
    async fn a_failed_write_leaves_no_partial_file_and_a_full_disk_says_so() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.jpg");
        let partial = dir.path().join("a.part-0123");
        std::os::unix::fs::symlink("/dev/full", &partial).expect("symlink");
        let err = write_then_rename(&partial, &path, &[0xFF, 0xD8, 0xFF, 0xE0])
            .await
            .expect_err("/dev/full refuses the bytes");
        assert!(matches!(err, StorageError::Full(_)), "{err:?}");
        assert!(
            std::fs::symlink_metadata(&partial).is_err(),
            "the partial file is removed"
        );
        assert_eq!(files_under(dir.path()), Vec::<String>::new());
    }

    /// Other failures (the directory cannot be made: its parent is a file)
    /// are plain I/O errors, and nothing is left behind either.
    #[tokio::test]
    async fn a_directory_that_cannot_be_made_is_an_io_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("image"), b"a file").expect("file");
        let store = LocalStore::new(dir.path(), b"k".to_vec());
        let err = store
            .write(&key(), &[0xFF, 0xD8, 0xFF, 0xE0])
            .await
            .expect_err("image/ is a file");
        assert!(matches!(err, StorageError::Io(_)), "{err:?}");
        assert_eq!(files_under(dir.path()), vec!["image".to_owned()]);
    }

    #[tokio::test]
    async fn writes_are_stored_whole_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::new(dir.path(), b"k".to_vec());
        let bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        store.write(&key(), &bytes).await.expect("written");
        assert_eq!(store.read(&key()).await.ok().flatten(), Some(bytes));
        assert_eq!(files_under(dir.path()), vec![key().to_string()]);
    }

    #[tokio::test]
    async fn leftovers_of_a_crash_are_removed_and_images_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::new(dir.path(), b"k".to_vec());
        store
            .write(&key(), &[0xFF, 0xD8, 0xFF])
            .await
            .expect("written");
        let image_dir = dir.path().join(key().to_string());
        let image_dir = image_dir.parent().expect("a parent");
        std::fs::write(image_dir.join("x.part-0123"), b"half").expect("leftover");
        std::fs::write(dir.path().join("y.part-4567"), b"half").expect("leftover");
        assert_eq!(store.remove_leftovers().expect("walked"), 2);
        assert_eq!(files_under(dir.path()), vec![key().to_string()]);
        assert_eq!(store.remove_leftovers().expect("walked"), 0);
        let missing = LocalStore::new(dir.path().join("not yet"), b"k".to_vec());
        assert_eq!(missing.remove_leftovers().expect("nothing to walk"), 0);
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
