//! Per-caller rate limits: a fixed one-minute window counted in Redis (shared by every
//! gateway replica) or in memory (the embedded mode). If Redis is down the gateway lets
//! calls through and logs it: availability beats strictness for a limiter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

/// Counts calls per key.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one call for `key`; true while the key is within `limit` calls this minute.
    async fn allow(&self, key: &str, limit: u32) -> anyhow::Result<bool>;
}

fn current_minute() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() / 60).unwrap_or_default()
}

/// Limits in process memory.
#[derive(Default)]
pub struct MemoryRateLimiter {
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

#[async_trait::async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn allow(&self, key: &str, limit: u32) -> anyhow::Result<bool> {
        let minute = current_minute();
        let mut windows = self.windows.lock().expect("rate limit lock");
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(key.to_string()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        Ok(entry.1 <= limit)
    }
}

/// Limits in Redis: `INCR` and `EXPIRE` of `<prefix>:rl:<key>:<minute>` in one transaction.
pub struct RedisRateLimiter {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisRateLimiter {
    /// Connects (and keeps reconnecting) to Redis at `url`.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("redis.url is not a Redis URL")?;
        let connection = redis::aio::ConnectionManager::new(client)
            .await
            .with_context(|| format!("connect to Redis at {}", doan_platform::db::redact(url)))?;
        Ok(Self { connection, prefix: prefix.to_string() })
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn allow(&self, key: &str, limit: u32) -> anyhow::Result<bool> {
        let redis_key = format!("{}:rl:{key}:{}", self.prefix, current_minute());
        let mut conn = self.connection.clone();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&redis_key, 1u64)
            .expire(&redis_key, 120)
            .ignore()
            .query_async(&mut conn)
            .await
            .context("count call in Redis")?;
        Ok(count <= u64::from(limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_limiter_counts_per_key() {
        let l = MemoryRateLimiter::default();
        assert!(l.allow("a", 2).await.unwrap());
        assert!(l.allow("a", 2).await.unwrap());
        assert!(!l.allow("a", 2).await.unwrap());
        assert!(l.allow("b", 2).await.unwrap());
    }
}
