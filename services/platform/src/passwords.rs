//! Breached passwords, checked without the network: a password is refused when its SHA-1
//! appears in a range file (Have I Been Pwned's k-anonymity format: one uppercase SHA-1 per
//! line, optionally `:count`, sorted by hash).
//!
//! The platform ships a small list (`data/breached-passwords.txt`): the passwords of at least
//! [`crate::auth::MIN_PASSWORD_CHARS`] characters among the 30,000 most common of zxcvbn's
//! frequency list (MIT, Dropbox), the usual keyboard and digit runs, and common Vietnamese
//! choices (`matkhau`, `anhyeuem`, `doanvien`… with the suffixes people add). An operator adds
//! the full list with `auth.breached_passwords_file` (the file the Pwned Passwords downloader
//! writes, ordered by hash): it is searched on disk, a few reads per check, never loaded.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context;
use sha1::{Digest, Sha1};

/// The shipped list.
const SHIPPED: &str = include_str!("../data/breached-passwords.txt");

/// Hex digits of a SHA-1.
const HASH_HEX: usize = 40;

/// Bytes read to find one line from an offset (a line is at most ~55 bytes).
const WINDOW: usize = 160;

fn shipped() -> &'static [[u8; HASH_HEX]] {
    static LIST: OnceLock<Vec<[u8; HASH_HEX]>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list: Vec<[u8; HASH_HEX]> = SHIPPED.lines().filter_map(|l| hash_of_line(l.as_bytes())).collect();
        list.sort_unstable();
        list
    })
}

/// The uppercase hash a range-file line starts with.
fn hash_of_line(line: &[u8]) -> Option<[u8; HASH_HEX]> {
    let hex = line.get(..HASH_HEX)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) || !matches!(line.get(HASH_HEX), None | Some(b':' | b'\r' | b'\n')) {
        return None;
    }
    let mut out = [0u8; HASH_HEX];
    for (o, b) in out.iter_mut().zip(hex) {
        *o = b.to_ascii_uppercase();
    }
    Some(out)
}

/// The uppercase hex SHA-1 of `password` (UTF-8).
fn sha1_hex(password: &str) -> [u8; HASH_HEX] {
    let digest = Sha1::digest(password.as_bytes());
    let mut out = [0u8; HASH_HEX];
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = b"0123456789ABCDEF"[(b >> 4) as usize];
        out[2 * i + 1] = b"0123456789ABCDEF"[(b & 15) as usize];
    }
    out
}

/// The breached-password lists a deployment checks new passwords against.
#[derive(Clone, Default)]
pub struct BreachedPasswords {
    file: Option<std::sync::Arc<(File, u64)>>,
}

impl BreachedPasswords {
    /// The shipped list, and the range file at `path` when given (checked to be one).
    pub fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let file = File::open(path).with_context(|| format!("auth.breached_passwords_file {}", path.display()))?;
        let len = file.metadata()?.len();
        let mut head = vec![0u8; WINDOW.min(len as usize)];
        file.read_exact_at(&mut head, 0)?;
        anyhow::ensure!(
            hash_of_line(&head).is_some(),
            "auth.breached_passwords_file {} is not a range file (SHA-1 hashes, one a line, sorted)",
            path.display()
        );
        Ok(Self { file: Some(std::sync::Arc::new((file, len))) })
    }

    /// True when `password` is in a list.
    pub fn contains(&self, password: &str) -> anyhow::Result<bool> {
        let target = sha1_hex(password);
        if shipped().binary_search(&target).is_ok() {
            return Ok(true);
        }
        match &self.file {
            Some(f) => search(&f.0, f.1, &target),
            None => Ok(false),
        }
    }
}

/// The first whole line starting at or after `pos`: (start, end after its newline, hash).
fn line_at(file: &File, len: u64, pos: u64) -> anyhow::Result<Option<(u64, u64, [u8; HASH_HEX])>> {
    let from = pos.saturating_sub(1);
    if from >= len {
        return Ok(None);
    }
    let mut buf = vec![0u8; WINDOW.min((len - from) as usize)];
    file.read_exact_at(&mut buf, from)?;
    let skip = if pos == 0 {
        0
    } else {
        match buf.iter().position(|b| *b == b'\n') {
            Some(i) => i + 1,
            None => return Ok(None),
        }
    };
    let start = from + skip as u64;
    if start >= len {
        return Ok(None);
    }
    let line = &buf[skip..];
    let end = match line.iter().position(|b| *b == b'\n') {
        Some(i) => start + i as u64 + 1,
        None => len,
    };
    let hash = hash_of_line(line).with_context(|| format!("breached-password file: no hash at byte {start}"))?;
    Ok(Some((start, end, hash)))
}

/// Binary search of a sorted range file by byte offsets.
fn search(file: &File, len: u64, target: &[u8; HASH_HEX]) -> anyhow::Result<bool> {
    let (mut lo, mut hi) = (0u64, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match line_at(file, len, mid)? {
            Some((start, end, hash)) if start < hi => match hash.cmp(target) {
                std::cmp::Ordering::Equal => return Ok(true),
                std::cmp::Ordering::Less => lo = end,
                std::cmp::Ordering::Greater => hi = mid,
            },
            _ => hi = mid,
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_shipped_list_holds_common_long_passwords_only() {
        let b = BreachedPasswords::default();
        for p in ["qwertyuiop", "1234567890", "password123", "matkhau123", "Anhyeuem123", "doanvien2026", "1q2w3e4r5t"]
        {
            assert!(b.contains(p).unwrap(), "{p}");
        }
        for p in ["Hoa sen nở trên đầm 1975", "correct horse battery staple 42"] {
            assert!(!b.contains(p).unwrap(), "{p}");
        }
        assert!(shipped().windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }

    #[test]
    fn a_range_file_is_searched_on_disk() {
        let mut hashes: Vec<[u8; HASH_HEX]> = (0..5000).map(|i| sha1_hex(&format!("leaked-{i}"))).collect();
        hashes.sort_unstable();
        let path = std::env::temp_dir().join(format!("doan-pwned-{}.txt", std::process::id()));
        let mut file = std::fs::File::create(&path).unwrap();
        for (i, h) in hashes.iter().enumerate() {
            // Counts of every width, lower-case hex in some lines, CRLF in others.
            let hex = std::str::from_utf8(h).unwrap();
            let hex = if i % 3 == 0 { hex.to_ascii_lowercase() } else { hex.to_string() };
            let end = if i % 2 == 0 { "\r\n" } else { "\n" };
            write!(file, "{hex}:{}{end}", i * 7919 % 100_000).unwrap();
        }
        file.flush().unwrap();
        let b = BreachedPasswords::open(Some(&path)).unwrap();
        for i in [0, 1, 2, 2500, 4998, 4999] {
            assert!(b.contains(&format!("leaked-{i}")).unwrap(), "leaked-{i}");
        }
        for i in 5000..5200 {
            assert!(!b.contains(&format!("leaked-{i}")).unwrap(), "leaked-{i} is not in the file");
        }
        assert!(b.contains("qwertyuiop").unwrap(), "the shipped list still counts");

        std::fs::write(&path, "password123\n").unwrap();
        assert!(BreachedPasswords::open(Some(&path)).is_err());
        std::fs::remove_file(&path).unwrap();
        assert!(BreachedPasswords::open(Some(Path::new("/nonexistent/pwned.txt"))).is_err());
    }

    #[test]
    fn hashes_are_sha1_in_upper_hex() {
        assert_eq!(&sha1_hex("password"), b"5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }
}
