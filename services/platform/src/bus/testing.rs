//! A handler for testing bus implementations (both buses' tests use it).

use std::collections::HashMap;
use std::sync::Mutex;

use doan_proto::events::EventEnvelope;

use super::{EventHandler, HandlerError};

/// Fails an event as many times as its payload says (`fail:N` as a transient failure,
/// `down:N` as its database being unavailable), then records it as handled.
#[derive(Default)]
pub struct FlakyHandler {
    /// Attempts per event id.
    pub attempts: Mutex<HashMap<String, u32>>,
    /// Event ids handled, in order.
    pub handled: Mutex<Vec<String>>,
}

impl FlakyHandler {
    /// Attempts made for `event_id`.
    pub fn attempts_of(&self, event_id: &str) -> u32 {
        self.attempts.lock().expect("attempts lock").get(event_id).copied().unwrap_or_default()
    }

    /// Event ids handled so far.
    pub fn handled(&self) -> Vec<String> {
        self.handled.lock().expect("handled lock").clone()
    }
}

#[async_trait::async_trait]
impl EventHandler for FlakyHandler {
    async fn handle(&self, envelope: &EventEnvelope) -> Result<(), HandlerError> {
        let attempt = {
            let mut attempts = self.attempts.lock().expect("attempts lock");
            let n = attempts.entry(envelope.event_id.clone()).or_default();
            *n += 1;
            *n
        };
        let text = String::from_utf8_lossy(&envelope.payload);
        if let Some(n) = text.strip_prefix("down:")
            && attempt <= n.parse::<u32>().unwrap_or(u32::MAX)
        {
            return Err(HandlerError::Unavailable(format!("database down ({attempt})")));
        }
        if let Some(n) = text.strip_prefix("fail:")
            && attempt <= n.parse::<u32>().unwrap_or(u32::MAX)
        {
            return Err(HandlerError::Failed(anyhow::anyhow!("transient failure {attempt}")));
        }
        self.handled.lock().expect("handled lock").push(envelope.event_id.clone());
        Ok(())
    }
}
