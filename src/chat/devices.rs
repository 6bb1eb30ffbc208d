//! Device cookies: a signed note that this browser (or script) has signed in to an account
//! before. A sign-in that carries one is throttled per device instead of per account, so a
//! stranger's failed guesses from elsewhere never lock the owner out (docs/decisions.md).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::Db;
use crate::domain::UserId;
use crate::error::Result;
use crate::store::settings;

/// The cookie's name.
pub const COOKIE: &str = "hearth_device";
/// How long a device stays known after its last sign-in there.
pub const LIFETIME_DAYS: u32 = 365;
const LIFETIME_MS: i64 = LIFETIME_DAYS as i64 * 24 * 60 * 60 * 1000;
/// The setting that holds the signing key.
const SETTING: &str = "device_cookie_key";

/// The instance's key for device cookies: made on first start, kept in the database (and so
/// in backups), never shown.
#[derive(Clone)]
pub struct DeviceKey([u8; 32]);

/// A device recognised from its cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Random and stable across re-issues: what the throttle counts against.
    pub id: String,
}

impl DeviceKey {
    /// The key stored in `db`, made and stored first if there is none.
    pub async fn load(db: &Db) -> Result<DeviceKey> {
        if let Some(kept) = db.read_short(|conn| settings::get(conn, SETTING)).await? {
            return Ok(DeviceKey::from_bytes(&kept));
        }
        let fresh = random::<32>();
        let kept = db
            .write(move |ctx| settings::get_or_insert(ctx.conn, SETTING, &fresh))
            .await?;
        Ok(DeviceKey::from_bytes(&kept))
    }

    fn from_bytes(bytes: &[u8]) -> DeviceKey {
        let mut key = [0u8; 32];
        let n = bytes.len().min(32);
        key[..n].copy_from_slice(&bytes[..n]);
        DeviceKey(key)
    }

    /// A cookie value for `user`, issued `now` (ms), for the device `id` or a new one.
    pub fn issue(&self, user: UserId, now: i64, device: Option<&Device>) -> String {
        let id = device.map_or_else(|| hex::encode(random::<12>()), |d| d.id.clone());
        let body = format!("{user}.{now}.{id}");
        let mac = hex::encode(self.mac(&body).finalize().into_bytes());
        format!("{body}.{mac}")
    }

    /// The device a cookie value names, when this key issued it to `user` less than a year
    /// before `now`. Anything else (forged, another account's, expired, garbled) is `None`.
    pub fn verify(&self, value: &str, user: UserId, now: i64) -> Option<Device> {
        let (body, mac) = value.rsplit_once('.')?;
        let mut parts = body.splitn(3, '.');
        let (owner, issued, id) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: i64 = issued.parse().ok()?;
        if owner.parse::<UserId>().ok()? != user
            || id.is_empty()
            || !(now - LIFETIME_MS..=now).contains(&issued)
        {
            return None;
        }
        self.mac(body).verify_slice(&hex::decode(mac).ok()?).ok()?;
        Some(Device { id: id.to_owned() })
    }

    fn mac(&self, body: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"hearth device cookie\0");
        mac.update(body.as_bytes());
        mac
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_cookie_names_its_device_for_its_account_only() {
        let key = DeviceKey::from_bytes(&[7; 32]);
        let cookie = key.issue(42, NOW, None);
        let device = key.verify(&cookie, 42, NOW).expect("valid");
        assert_eq!(device.id.len(), 24);
        assert_eq!(
            key.verify(&cookie, 43, NOW),
            None,
            "another account's device"
        );
        // Re-issued for the same device, the id stays.
        let again = key.issue(42, NOW + 5, Some(&device));
        assert_eq!(key.verify(&again, 42, NOW + 5), Some(device.clone()));
        assert_ne!(
            key.issue(42, NOW, None),
            cookie,
            "a new device gets a new id"
        );
    }

    #[test]
    fn forged_expired_and_garbled_cookies_name_nothing() {
        let key = DeviceKey::from_bytes(&[7; 32]);
        let cookie = key.issue(42, NOW, None);
        let other_key = DeviceKey::from_bytes(&[8; 32]);
        assert_eq!(
            other_key.verify(&cookie, 42, NOW),
            None,
            "signed by another key"
        );
        let (body, mac) = cookie.rsplit_once('.').unwrap();
        let tampered = format!("{}.{mac}", body.replacen("42.", "43.", 1));
        assert_eq!(key.verify(&tampered, 43, NOW), None);
        let mut flipped = mac.to_owned();
        flipped.replace_range(0..1, if mac.starts_with('0') { "1" } else { "0" });
        assert_eq!(key.verify(&format!("{body}.{flipped}"), 42, NOW), None);
        // Valid up to a year after issue, not a millisecond longer, and never from the future.
        assert!(key.verify(&cookie, 42, NOW + LIFETIME_MS).is_some());
        assert_eq!(key.verify(&cookie, 42, NOW + LIFETIME_MS + 1), None);
        assert_eq!(key.verify(&cookie, 42, NOW - 1), None);
        for garbled in [
            "",
            ".",
            "42",
            "42.x.y.z",
            "42..abc.00",
            &format!("{body}.zz"),
        ] {
            assert_eq!(key.verify(garbled, 42, NOW), None, "{garbled:?}");
        }
        let no_id = format!("42.{NOW}.");
        let signed = format!(
            "{no_id}.{}",
            hex::encode(key.mac(&no_id).finalize().into_bytes())
        );
        assert_eq!(key.verify(&signed, 42, NOW), None, "an empty device id");
    }

    #[tokio::test]
    async fn the_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), crate::config::Synchronous::Normal).unwrap();
        let first = DeviceKey::load(&db).await.unwrap();
        let again = DeviceKey::load(&db).await.unwrap();
        assert_eq!(first.0, again.0);
        assert_ne!(first.0, [0; 32]);
        db.writer().shutdown();
    }
}
