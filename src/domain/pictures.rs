//! Pictures — a person's avatar, a channel's or group's picture, the community's logo — named
//! by the SHA-256 of their stored square, and the URLs they are served at.

/// Where a picture is served to signed-in people. Its name is its content, so it never
/// changes and is cached for good.
pub fn url(sha256: &str) -> String {
    format!("/pictures/{sha256}")
}

/// Where the community's logo is served to anyone (the sign-in page shows it). The version
/// makes each logo its own URL, so a new one is not hidden by a cached old one.
pub fn logo_url(sha256: &str) -> String {
    format!("/logo?v={}", &sha256[..sha256.len().min(16)])
}

/// Whether `name` can name a picture: 64 lowercase hex digits, as stored.
pub fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Serde for an `Option<sha256>` that travels as its URL (`null` when unset). Read back, a
/// URL of ours names its picture again and anything else names none.
pub mod as_url {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sha256: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match sha256 {
            Some(sha) => s.serialize_some(&super::url(sha)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let url = Option::<String>::deserialize(d)?;
        Ok(url.and_then(|u| {
            u.strip_prefix("/pictures/")
                .filter(|sha| super::is_sha256(sha))
                .map(str::to_owned)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Holder {
        #[serde(rename = "avatar_url", with = "as_url", default)]
        avatar: Option<String>,
    }

    #[test]
    fn a_picture_travels_as_its_url_and_back() {
        let sha = "ab".repeat(32);
        let held = Holder {
            avatar: Some(sha.clone()),
        };
        let json = serde_json::to_string(&held).unwrap();
        assert_eq!(json, format!(r#"{{"avatar_url":"/pictures/{sha}"}}"#));
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), held);
        let none = Holder { avatar: None };
        assert_eq!(
            serde_json::to_string(&none).unwrap(),
            r#"{"avatar_url":null}"#
        );
        assert_eq!(serde_json::from_str::<Holder>("{}").unwrap(), none);
        let foreign = r#"{"avatar_url":"https://elsewhere/x.png"}"#;
        assert_eq!(serde_json::from_str::<Holder>(foreign).unwrap(), none);
        assert_eq!(logo_url(&sha), format!("/logo?v={}", &sha[..16]));
    }
}
