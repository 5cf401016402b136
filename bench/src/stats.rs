//! Load runs and their figures.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one load run measured.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Successful calls.
    pub ok: u64,
    /// Failed calls.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latency of each successful call, microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl Sample {
    /// Calls per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// Latency percentile in milliseconds.
    pub fn pct_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }
}

/// Runs `call` from `concurrency` workers for `duration` (after a short warm-up) and
/// collects latencies.
pub async fn run_load<F, Fut>(concurrency: usize, duration: Duration, call: F) -> Sample
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    // Warm-up: connections, caches, JIT-free but pool-filling.
    let warm_until = Instant::now() + Duration::from_millis(300);
    let mut warm = Vec::new();
    for w in 0..concurrency {
        let call = call.clone();
        warm.push(tokio::spawn(async move {
            while Instant::now() < warm_until {
                let _ = call(w).await;
            }
        }));
    }
    for t in warm {
        let _ = t.await;
    }
    let start = Instant::now();
    let until = start + duration;
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0u64;
            while Instant::now() < until {
                let t = Instant::now();
                match call(w).await {
                    Ok(()) => lat.push(t.elapsed().as_micros() as u64),
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut sample = Sample::default();
    for w in workers {
        let (lat, errors) = w.await.expect("worker");
        sample.ok += lat.len() as u64;
        sample.errors += errors;
        sample.latencies_us.extend(lat);
    }
    sample.elapsed = start.elapsed();
    sample.latencies_us.sort_unstable();
    sample
}

/// A Markdown table.
#[derive(Default)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers.
    pub fn new(headers: &[&str]) -> Self {
        Self { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Markdown text.
    pub fn markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.headers.join(" | "));
        out.push_str(&format!("|{}\n", "---|".repeat(self.headers.len())));
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        out
    }
}

/// `x` with `d` decimals.
pub fn f(x: f64, d: usize) -> String {
    format!("{x:.d$}")
}
