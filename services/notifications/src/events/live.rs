//! Committed notices to this replica's live watches: each notice goes only to the watches of
//! its owner (a map from owner to their open watches), never to every watch; a watch that
//! cannot keep up is told to read what it missed from the database. Notices committed on
//! another replica are found by one sweep per replica ([`Live::sweep`]: the inbox counters of
//! every watched owner, 1,000 a query), not by a poll per watch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc};

use crate::storage::notification;

/// Notices a watch may have waiting before it is told to catch up from the database.
const BUFFER: usize = 64;

struct Watcher {
    id: u64,
    tx: mpsc::Sender<Arc<notification::Model>>,
    lagged: Arc<AtomicBool>,
    wake: Arc<Notify>,
    last: Arc<AtomicI64>,
}

/// This replica's open watches, by owner.
#[derive(Default)]
pub struct Live {
    watchers: Mutex<HashMap<String, Vec<Watcher>>>,
    next: AtomicU64,
}

/// One open watch's end: its notices, and a wake-up when some were dropped.
pub struct Subscription {
    live: Arc<Live>,
    owner: String,
    id: u64,
    /// Notices of the owner, in commit order.
    pub notices: mpsc::Receiver<Arc<notification::Model>>,
    /// Set when a notice could not be buffered: read from the database.
    pub lagged: Arc<AtomicBool>,
    /// Woken when `lagged` is set.
    pub wake: Arc<Notify>,
    /// The last inbox position the watch sent (kept by the watch, read by the sweep).
    pub last: Arc<AtomicI64>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut map) = self.live.watchers.lock()
            && let Some(list) = map.get_mut(&self.owner)
        {
            list.retain(|w| w.id != self.id);
            if list.is_empty() {
                map.remove(&self.owner);
            }
        }
    }
}

impl Live {
    /// Hands a committed notice to its owner's watches on this replica (none: nothing to do).
    pub fn send(&self, notice: Arc<notification::Model>) {
        let Ok(map) = self.watchers.lock() else { return };
        for w in map.get(&notice.member_id).into_iter().flatten() {
            if w.tx.try_send(notice.clone()).is_err() {
                w.lagged.store(true, Ordering::Release);
                w.wake.notify_one();
            }
        }
    }

    /// Opens a watch of `owner`'s notices; it closes when the subscription is dropped.
    pub fn subscribe(self: &Arc<Self>, owner: &str) -> Subscription {
        let (tx, notices) = mpsc::channel(BUFFER);
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let lagged = Arc::new(AtomicBool::new(false));
        let wake = Arc::new(Notify::new());
        let last = Arc::new(AtomicI64::new(i64::MAX));
        let watcher = Watcher { id, tx, lagged: lagged.clone(), wake: wake.clone(), last: last.clone() };
        if let Ok(mut map) = self.watchers.lock() {
            map.entry(owner.to_string()).or_default().push(watcher);
        }
        Subscription { live: self.clone(), owner: owner.to_string(), id, notices, lagged, wake, last }
    }

    /// Compares the inbox counters of every watched owner with what their watches sent, and
    /// tells the watches that are behind (notices committed on another replica) to read.
    /// One query per 1,000 watched owners; returns how many watches were told.
    pub async fn sweep(&self, db: &impl sea_orm::ConnectionTrait) -> Result<usize, sea_orm::DbErr> {
        let owners: Vec<String> = match self.watchers.lock() {
            Ok(map) => map.keys().cloned().collect(),
            Err(_) => return Ok(0),
        };
        let mut told = 0;
        for chunk in owners.chunks(1_000) {
            let counters = crate::storage::notices::counters(db, chunk).await?;
            let Ok(map) = self.watchers.lock() else { return Ok(told) };
            for (owner, counter) in counters {
                for w in map.get(&owner).into_iter().flatten() {
                    if counter > w.last.load(Ordering::Acquire) {
                        w.lagged.store(true, Ordering::Release);
                        w.wake.notify_one();
                        told += 1;
                    }
                }
            }
        }
        Ok(told)
    }

    /// Open watches on this replica.
    pub fn open(&self) -> usize {
        self.watchers.lock().map(|m| m.values().map(Vec::len).sum()).unwrap_or(0)
    }
}
