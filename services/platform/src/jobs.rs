//! Resumable background jobs (a member import, a reorganisation plan): each runs on a task of
//! its own, at most once per process; its state lives in the service's database under a lease,
//! so a job that a stopped process left behind is found again by a periodic look and resumed
//! here or by another replica, whichever takes the lease first.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The jobs of one kind this process is running.
#[derive(Clone, Default)]
pub struct Running {
    ids: Arc<Mutex<HashSet<String>>>,
}

/// Forgets a job when its task ends, however it ends (an error, a panic), so that the next
/// look may resume it.
struct Forget(Arc<Mutex<HashSet<String>>>, String);

impl Drop for Forget {
    fn drop(&mut self) {
        if let Ok(mut ids) = self.0.lock() {
            ids.remove(&self.1);
        }
    }
}

impl Running {
    /// Runs `job` for `id` on a task of its own unless this process already runs it; an error
    /// pauses the job (logged with `kind`) until the next look.
    pub fn spawn<F, Fut>(&self, kind: &'static str, id: &str, job: F)
    where
        F: FnOnce(String) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let fresh = self.ids.lock().map(|mut ids| ids.insert(id.to_string())).unwrap_or(false);
        if !fresh {
            return;
        }
        let forget = Forget(self.ids.clone(), id.to_string());
        tokio::spawn(async move {
            let _forget = forget;
            let id = _forget.1.clone();
            if let Err(e) = job(id.clone()).await {
                tracing::warn!(kind, id, error = %format!("{e:#}"), "job paused; it resumes at the next look");
            }
        });
    }

    /// Every `every` until `shutdown`: asks `look` for the ids of unfinished jobs and hands each
    /// to `resume` (which calls [`Running::spawn`]).
    pub fn look_forever<L, LFut, R>(
        &self,
        kind: &'static str,
        every: Duration,
        shutdown: CancellationToken,
        look: L,
        resume: R,
    ) where
        L: Fn() -> LFut + Send + 'static,
        LFut: Future<Output = anyhow::Result<Vec<String>>> + Send,
        R: Fn(&str) + Send + 'static,
    {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match look().await {
                    Ok(ids) => ids.iter().for_each(|id| resume(id)),
                    Err(e) => tracing::debug!(kind, error = %e, "looking for jobs to resume"),
                }
            }
        });
    }
}

/// Runs `look` now and every `every` until `shutdown`: a periodic look for work (reminders
/// due, targets met) whose effects are claimed in the database, so any number of replicas may
/// look. `what` names the work in the logs; `look` returns how many things it did.
pub fn every<F, Fut, E>(shutdown: CancellationToken, every: Duration, what: &'static str, look: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<usize, E>> + Send,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match look().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, what, "periodic look did work"),
                Err(e) => tracing::warn!(error = %e, what, "periodic look failed; retried at the next look"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_once_at_a_time_and_is_forgotten_when_it_ends() {
        let running = Running::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = runs.clone();
        running.spawn("test", "a", move |_| async move {
            r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = rx.await;
            anyhow::bail!("paused")
        });
        tokio::task::yield_now().await;
        let r = runs.clone();
        running.spawn("test", "a", move |_| async move {
            r.fetch_add(10, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let _ = tx.send(());
        for _ in 0..100 {
            if running.ids.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1, "the second spawn was refused");
        assert!(running.ids.lock().unwrap().is_empty(), "forgotten after its error");
        let r = runs.clone();
        running.spawn("test", "a", move |_| async move {
            r.fetch_add(10, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        for _ in 0..100 {
            if runs.load(std::sync::atomic::Ordering::SeqCst) == 11 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 11, "resumed once forgotten");
    }
}
