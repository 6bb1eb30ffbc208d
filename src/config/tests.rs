//! The configuration's layers, checks and example file.

use super::*;

fn write(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

#[test]
fn defaults_need_no_file() {
    let c = Config::load(None, &[], &Overrides::default()).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.db_path(), PathBuf::from("./hearth-data/hearth.db"));
    assert_eq!(c.synchronous, Synchronous::Full);
}

#[test]
fn layers_override_in_order() {
    let file = write("listen = \"127.0.0.1:1000\"\nsend_per_minute = 5\nmax_message_chars = 10\n");
    let env = vec![
        ("HEARTH_LISTEN".to_string(), "127.0.0.1:2000".to_string()),
        ("HEARTH_SEND_PER_MINUTE".to_string(), "7".to_string()),
    ];
    let c = Config::load(Some(file.path()), &env, &Overrides::default()).unwrap();
    assert_eq!(c.listen.port(), 2000);
    assert_eq!(c.send_per_minute, 7);
    assert_eq!(c.max_message_chars, 10);
    let flags = Overrides {
        listen: Some("127.0.0.1:3000".into()),
        ..Default::default()
    };
    let c = Config::load(Some(file.path()), &env, &flags).unwrap();
    assert_eq!(c.listen.port(), 3000);
}

#[test]
fn unknown_keys_are_named() {
    let file = write("listen = \"127.0.0.1:1000\"\nlisten_port = 5\n");
    let err = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("listen_port"), "{err}");
}

#[test]
fn bad_values_are_refused() {
    let file = write("listen = \"nope\"\n");
    assert!(Config::load(Some(file.path()), &[], &Overrides::default()).is_err());
    let env = vec![("HEARTH_SEND_PER_MINUTE".to_string(), "lots".to_string())];
    let err = Config::load(None, &env, &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("HEARTH_SEND_PER_MINUTE"), "{err}");
    let file = write("base_url = \"chat.example.org\"\n");
    assert!(Config::load(Some(file.path()), &[], &Overrides::default()).is_err());
}

#[test]
fn backups_are_configured_by_file_and_environment() {
    let file = write("[backup]\ninterval = \"1h30m\"\nkeep = 3\n");
    let c = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap();
    assert_eq!(c.backup.interval, Some(Duration::from_secs(5400)));
    assert_eq!(c.backup.keep, 3);
    assert_eq!(c.backup_dir(), PathBuf::from("./hearth-data/backups"));
    let env = vec![
        ("HEARTH_BACKUP_INTERVAL".to_string(), "off".to_string()),
        ("HEARTH_BACKUP_DIR".to_string(), "/srv/backups".to_string()),
        (
            "HEARTH_METRICS_TOKEN".to_string(),
            "0123456789abcdef".to_string(),
        ),
    ];
    let c = Config::load(Some(file.path()), &env, &Overrides::default()).unwrap();
    assert_eq!(c.backup.interval, None);
    assert_eq!(c.backup_dir(), PathBuf::from("/srv/backups"));
    assert_eq!(c.metrics_token, "0123456789abcdef");
    for bad in [
        "[backup]\ninterval = \"soon\"\n",
        "[backup]\nkeep = 0\n",
        "[backup]\nkept = 1\n",
    ] {
        let file = write(bad);
        assert!(
            Config::load(Some(file.path()), &[], &Overrides::default()).is_err(),
            "{bad}"
        );
    }
    let env = vec![("HEARTH_METRICS_TOKEN".to_string(), "short".to_string())];
    let err = Config::load(None, &env, &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("metrics_token"), "{err}");
}

#[test]
fn the_example_file_parses_to_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Every setting is present, commented out; uncommented it must parse and equal the default.
    let uncommented: String = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("# ")
                .filter(|r| r.contains(" = "))
                .or(Some(l))
        })
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let file = write(&uncommented);
    let c = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap();
    let d = Config::default();
    assert_eq!(format!("{c:?}"), format!("{d:?}"));
    for key in [
        "push_subject",
        "push_idle_secs",
        "listen",
        "base_url",
        "trusted_proxies",
        "synchronous",
        "send_per_minute",
        "metrics_token",
        "password_hash_threads",
        "password_hash_queue",
        "request_timeout_secs",
        "keep_alive_secs",
        "max_connections",
        "max_request_bytes",
        "interval",
        "keep",
        "attachments",
        "endpoint",
        "region",
        "access_key_id",
        "secret_access_key",
        "allow_http",
    ] {
        assert!(uncommented.contains(&format!("{key} = ")), "{key} missing");
    }
}

#[test]
fn server_limits_are_read_and_checked() {
    let file = write(
        "password_hash_threads = 3\npassword_hash_queue = 0\nrequest_timeout_secs = 5\n\
         keep_alive_secs = 30\nmax_connections = 100\nmax_request_bytes = 1024\n",
    );
    let c = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap();
    assert_eq!(
        (c.password_hash_threads, c.password_hash_queue),
        (3, 0),
        "a queue of 0 is allowed: no waiting at all"
    );
    assert_eq!((c.request_timeout_secs, c.keep_alive_secs), (5, 30));
    assert_eq!((c.max_connections, c.max_request_bytes), (100, 1024));
    let env = vec![("HEARTH_MAX_CONNECTIONS".to_string(), "7".to_string())];
    assert_eq!(
        Config::load(None, &env, &Overrides::default())
            .unwrap()
            .max_connections,
        7
    );
    for (bad, named) in [
        ("request_timeout_secs = 0", "request_timeout_secs"),
        ("keep_alive_secs = 3601", "keep_alive_secs"),
        ("max_connections = 0", "max_connections"),
        ("max_request_bytes = 1023", "max_request_bytes"),
        ("max_request_bytes = 67108865", "max_request_bytes"),
        ("password_hash_threads = 257", "password_hash_threads"),
    ] {
        let file = write(&format!("{bad}\n"));
        let err = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains(named), "{bad}: {err}");
    }
    for ok in [
        "request_timeout_secs = 1",
        "keep_alive_secs = 3600",
        "max_request_bytes = 67108864",
        "password_hash_threads = 256",
    ] {
        let file = write(&format!("{ok}\n"));
        assert!(
            Config::load(Some(file.path()), &[], &Overrides::default()).is_ok(),
            "{ok}"
        );
    }
}

#[test]
fn email_is_configured_by_file_and_environment() {
    let file = write(
        "base_url = \"https://chat.example.org\"\nemail_idle_minutes = 1440\n\n[smtp]\n\
         host = \"smtp.example.org\"\nuser = \"hearth\"\npassword = \"s3cret\"\n\
         from = \"Hearth <chat@example.org>\"\n",
    );
    let c = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap();
    assert!(c.smtp.enabled());
    assert_eq!((c.smtp.tls, c.smtp.port()), (SmtpTls::Starttls, 587));
    assert_eq!(c.email_idle, Duration::from_secs(1440 * 60));
    assert!(
        !format!("{c:?}").contains("s3cret"),
        "the password stays out of logs"
    );
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let c = Config::load(
        Some(file.path()),
        &env(&[
            ("HEARTH_SMTP_TLS", "tls"),
            ("HEARTH_SMTP_PORT", "2465"),
            ("HEARTH_SMTP_TIMEOUT_SECS", "5"),
            ("HEARTH_EMAIL_IDLE_MINUTES", "1"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!((c.smtp.tls, c.smtp.port()), (SmtpTls::Tls, 2465));
    assert_eq!(c.smtp.timeout, Duration::from_secs(5));
    assert_eq!(c.email_idle, Duration::from_secs(60));
    for (key, value, says) in [
        ("HEARTH_SMTP_PORT", "lots", "HEARTH_SMTP_PORT"),
        ("HEARTH_SMTP_PORT", "70000", "environment"),
        ("HEARTH_SMTP_TLS", "ssl", "ssl"),
        ("HEARTH_SMTP_USER", "", "smtp.user and smtp.password"),
        ("HEARTH_SMTP_FROM", "nobody", "smtp.from"),
        ("HEARTH_EMAIL_IDLE_MINUTES", "0", "email_idle_minutes"),
        ("HEARTH_EMAIL_IDLE_MINUTES", "1441", "email_idle_minutes"),
        ("HEARTH_BASE_URL", "", "base_url"),
    ] {
        let err = Config::load(
            Some(file.path()),
            &env(&[(key, value)]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(says), "{key}={value}: {err}");
    }
    let file = write("[smtp]\nhost = \"smtp.example.org\"\nport = 25\nsecure = true\n");
    let err = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("secure"), "{err}");
}

#[test]
fn object_storage_needs_every_setting_and_names_the_missing_one() {
    let file = write("attachments = \"s3://hearth/blobs\"\n[s3]\nsecret_access_key = \"s\"\n");
    let err = Config::load(Some(file.path()), &[], &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("s3.access_key_id"), "{err}");
    let env = vec![
        ("HEARTH_S3_ACCESS_KEY_ID".to_string(), "k".to_string()),
        (
            "HEARTH_S3_ENDPOINT".to_string(),
            "http://127.0.0.1:9".to_string(),
        ),
    ];
    let err = Config::load(Some(file.path()), &env, &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("s3.allow_http"), "{err}");
    let mut env = env;
    env.push(("HEARTH_S3_ALLOW_HTTP".to_string(), "true".to_string()));
    let c = Config::load(Some(file.path()), &env, &Overrides::default()).unwrap();
    assert_eq!(c.attachments, "s3://hearth/blobs");
    assert_eq!((c.s3.access_key_id.as_str(), c.s3.allow_http), ("k", true));
    assert!(!format!("{c:?}").contains("secret_access_key: Some(\"s\")"));
    let bad = write("attachments = \"/var/blobs\"\n");
    let err = Config::load(Some(bad.path()), &[], &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("attachments"), "{err}");
}
