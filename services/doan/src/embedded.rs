//! The embedded default (`doan all`): one SQLite file per service under the data directory,
//! services on ephemeral loopback ports behind the gateway, and any key or password not
//! configured generated once and kept (mode 0600) in the data directory.

use std::path::Path;

use anyhow::Context;
use doan_platform::auth::generate_keypair;
use doan_platform::config::Settings;
use doan_platform::crypto::FieldCipher;
use secrecy::{ExposeSecret, SecretString};

use crate::ServiceName;

/// Settings adjusted for the embedded mode, and the administrator password if it was
/// generated here (so `doan all` can print it).
pub struct EmbeddedSettings {
    /// The adjusted settings.
    pub settings: Settings,
    /// The bootstrap administrator's password, when it came from the data directory.
    pub admin_password_file: Option<std::path::PathBuf>,
}

/// Points every service at its SQLite file and fills in missing keys from the data dir.
pub fn prepare(mut settings: Settings) -> anyhow::Result<EmbeddedSettings> {
    let dir = settings.embedded.data_dir.clone();
    std::fs::create_dir_all(&dir).with_context(|| format!("create data directory {}", dir.display()))?;
    for name in ServiceName::ALL {
        let own = settings.service_mut(name.as_str()).expect("every service has settings");
        own.database_url = SecretString::from(format!("sqlite://{}/{}.db", dir.display(), name.as_str()));
        own.listen = "127.0.0.1:0".into();
        own.max_db_connections = 4;
    }
    if settings.auth.signing_key_pem.is_none() {
        let private = dir.join("jwt-signing-key.pem");
        let public = dir.join("jwt-verifying-key.pem");
        if !private.exists() || !public.exists() {
            let (sk, pk) = generate_keypair()?;
            write_private(&private, &sk)?;
            write_private(&public, &pk)?;
        }
        settings.auth.signing_key_pem = Some(SecretString::from(read(&private)?));
        settings.auth.verifying_key_pem = Some(read(&public)?);
    }
    if settings.pii.encryption_key.is_none() {
        let path = dir.join("pii-encryption.key");
        if !path.exists() {
            write_private(&path, &FieldCipher::generate_key())?;
        }
        settings.pii.encryption_key = Some(SecretString::from(read(&path)?.trim().to_string()));
    }
    if settings.attendance.code_key.is_none() {
        let path = dir.join("attendance-code.key");
        if !path.exists() {
            write_private(&path, &FieldCipher::generate_key())?;
        }
        settings.attendance.code_key = Some(SecretString::from(read(&path)?.trim().to_string()));
    }
    if settings.credentials.key.is_none() {
        let path = dir.join("credentials.key");
        if !path.exists() {
            write_private(&path, &FieldCipher::generate_key())?;
        }
        settings.credentials.key = Some(SecretString::from(read(&path)?.trim().to_string()));
    }
    let mut admin_password_file = None;
    if settings.auth.bootstrap_admin_password.is_none() {
        let path = dir.join("admin-password.txt");
        if !path.exists() {
            write_private(&path, &random_password())?;
        }
        settings.auth.bootstrap_admin_password = Some(SecretString::from(read(&path)?.trim().to_string()));
        admin_password_file = Some(path);
    }
    Ok(EmbeddedSettings { settings, admin_password_file })
}

/// The administrator password of embedded settings (for the start-up banner).
pub fn admin_password(settings: &Settings) -> Option<String> {
    settings.auth.bootstrap_admin_password.as_ref().map(|p| p.expose_secret().to_string())
}

fn random_password() -> String {
    use base64::Engine;
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).with_context(|| format!("create {}", path.display()))?;
    file.write_all(contents.as_bytes()).with_context(|| format!("write {}", path.display()))
}
