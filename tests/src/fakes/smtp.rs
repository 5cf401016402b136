//! An SMTP sink (RFC 5321, no TLS, no AUTH) that keeps every message it accepts.
//!
//! | Command | Reply |
//! |---|---|
//! | (connection opens) | `220` |
//! | `EHLO` / `HELO` | multi-line `250` with `8BITMIME` and `SMTPUTF8` / one-line `250` |
//! | `MAIL FROM`, `RCPT TO` | `250`; per recipient, scripted `550` or `451` |
//! | `DATA` | `354`; read to `CRLF.CRLF`, dot-stuffing undone; `250` |
//! | `NOOP`, `RSET` | `250` |
//! | `QUIT` | `221` |
//! | anything else | `502` |

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::Counter;

/// Largest message the sink takes.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// How the sink answers `RCPT TO` for an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpScript {
    /// `250`.
    Accept,
    /// `550 5.1.1` (no such user: permanent).
    Reject550,
    /// `451 4.3.0` (try again later).
    TempFail451,
}

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    /// `MAIL FROM` address.
    pub from: String,
    /// Accepted `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The message as sent (headers and body, CRLF line ends), dot-stuffing undone.
    pub data: Vec<u8>,
}

struct State {
    scripts: Mutex<HashMap<String, SmtpScript>>,
    messages: Mutex<Vec<SmtpMessage>>,
    recorded: Counter,
}

/// An SMTP sink on 127.0.0.1; stops when dropped.
pub struct SmtpSink {
    state: Arc<State>,
    port: u16,
    stop: watch::Sender<bool>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl SmtpSink {
    /// Starts the sink on a fresh port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let state =
            Arc::new(State { scripts: Mutex::default(), messages: Mutex::default(), recorded: Counter::default() });
        let (stop, stopped) = watch::channel(false);
        let accept_state = state.clone();
        let mut stop_accepting = stopped.clone();
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    r = listener.accept() => match r {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                    _ = stop_accepting.changed() => return,
                };
                let state = accept_state.clone();
                let mut stop_serving = stopped.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = session(state, stream) => {}
                        _ = stop_serving.changed() => {}
                    }
                });
            }
        });
        Ok(Self { state, port, stop })
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// How `RCPT TO:<address>` is answered from now on (addresses compare case-insensitively).
    pub fn script(&self, address: &str, script: SmtpScript) {
        lock(&self.state.scripts).insert(address.to_ascii_lowercase(), script);
    }

    /// Every message accepted, in order.
    pub fn messages(&self) -> Vec<SmtpMessage> {
        lock(&self.state.messages).clone()
    }

    /// Waits until `n` messages were accepted and returns them; `None` on timeout.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Option<Vec<SmtpMessage>> {
        self.state.recorded.wait_for(n, timeout).await.then(|| self.messages())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The address between `<` and `>` after `FROM:` / `TO:`.
fn path_address(args: &str) -> Option<String> {
    let start = args.find('<')?;
    let end = args[start..].find('>')? + start;
    Some(args[start + 1..end].to_string())
}

async fn session(state: Arc<State>, stream: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 127.0.0.1 ESMTP doan test sink\r\n").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, args) = text.split_once(' ').unwrap_or((text, ""));
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => b"250-127.0.0.1 greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n",
            "HELO" => b"250 127.0.0.1\r\n",
            "MAIL" => match path_address(args) {
                Some(a) if args.to_ascii_uppercase().starts_with("FROM:") => {
                    from = Some(a);
                    to.clear();
                    b"250 2.1.0 Ok\r\n"
                }
                _ => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match path_address(args) {
                _ if from.is_none() => b"503 5.5.1 Need MAIL before RCPT\r\n",
                Some(a) if args.to_ascii_uppercase().starts_with("TO:") => {
                    let script = lock(&state.scripts).get(&a.to_ascii_lowercase()).copied();
                    match script.unwrap_or(SmtpScript::Accept) {
                        SmtpScript::Accept => {
                            to.push(a);
                            b"250 2.1.5 Ok\r\n"
                        }
                        SmtpScript::Reject550 => b"550 5.1.1 Recipient address rejected: User unknown\r\n",
                        SmtpScript::TempFail451 => b"451 4.3.0 Temporary failure, try again later\r\n",
                    }
                }
                _ => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
            },
            "DATA" if to.is_empty() => b"503 5.5.1 Need RCPT before DATA\r\n",
            "DATA" => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let data = read_data(&mut read).await?;
                let Some(data) = data else {
                    write.write_all(b"552 5.3.4 Message too big\r\n").await?;
                    return Ok(());
                };
                let message = SmtpMessage { from: from.take().unwrap_or_default(), to: std::mem::take(&mut to), data };
                lock(&state.messages).push(message);
                state.recorded.add();
                b"250 2.0.0 Ok: queued\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "RSET" => {
                from = None;
                to.clear();
                b"250 2.0.0 Ok\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Reads the DATA section up to `CRLF.CRLF`, undoing dot-stuffing (RFC 5321 §4.5.2); `None`
/// when it exceeds [`MAX_MESSAGE`].
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(read: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok((data.len() <= MAX_MESSAGE).then_some(data));
        }
        let unstuffed = if line.first() == Some(&b'.') { &line[1..] } else { &line[..] };
        if data.len() <= MAX_MESSAGE {
            data.extend_from_slice(unstuffed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn data_ends_at_a_lone_dot_and_loses_its_stuffing() {
        let mut input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nplain\r\n.\r\nNOOP\r\n";
        let data = read_data(&mut input).await.unwrap().unwrap();
        assert_eq!(data, b"Subject: x\r\n\r\n.leading dot\r\nplain\r\n");
        assert_eq!(input, b"NOOP\r\n");
    }

    #[test]
    fn addresses_come_from_angle_brackets() {
        assert_eq!(path_address("FROM:<a@b.vn> BODY=8BITMIME").as_deref(), Some("a@b.vn"));
        assert_eq!(path_address("TO:<>").as_deref(), Some(""));
        assert_eq!(path_address("TO:a@b"), None);
    }
}
