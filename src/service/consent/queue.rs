//! Group commit of consents: requests that arrive while a signing transaction runs
//! wait in a queue, and the next transaction signs all of them (up to `BATCH`),
//! renders their PDFs on every core and commits once, so the disk's one flush a
//! commit is shared. Each request is answered only after its transaction has
//! committed, or with the error that stopped it; nothing is acknowledged before it
//! is durable.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use super::Given;
use crate::domain::consent::SignRequest;
use crate::domain::participant::Participant;
use crate::error::{AppError, AppResult};
use crate::keys::Keys;
use crate::store::Db;

/// The most consents one transaction signs.
pub(super) const BATCH: usize = 32;

/// One participant's request to sign, and where its answer goes.
pub(super) struct Job {
    pub participant: Participant,
    pub request: SignRequest,
    /// The span of the request that sent it, so what the batch logs of it carries
    /// that request's id.
    pub span: tracing::Span,
    reply: oneshot::Sender<AppResult<Given>>,
}

impl Job {
    /// Answers the request (a request whose caller has gone is simply dropped).
    pub fn answer(self, outcome: AppResult<Given>) {
        let _ = self.reply.send(outcome);
    }
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<Job>,
    /// Whether a task is signing the queue now.
    draining: bool,
}

/// The consents waiting to be signed; one per process, in `AppState`.
#[derive(Default)]
pub struct SigningQueue {
    waiting: Mutex<Waiting>,
}

impl SigningQueue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a request and waits for its answer; starts a signing task when none
    /// runs. The task owns the batch, so a caller that goes away mid-way does not
    /// cancel anyone else's transaction.
    pub(super) async fn submit(
        self: &Arc<Self>,
        db: &Db,
        keys: Option<&Keys>,
        participant: Participant,
        request: SignRequest,
    ) -> AppResult<Given> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut waiting = self.lock();
            let span = tracing::Span::current();
            waiting.jobs.push_back(Job { participant, request, span, reply });
            !std::mem::replace(&mut waiting.draining, true)
        };
        if start {
            let (queue, db, keys) = (Arc::clone(self), db.clone(), keys.cloned());
            let drain = async move { queue.drain(db, keys).await };
            tokio::spawn(tracing::instrument::WithSubscriber::with_current_subscriber(drain));
        }
        answer.await.map_err(|_| {
            AppError::Unavailable("the consent could not be recorded; please send it again".into())
        })?
    }

    /// Signs batches until the queue is empty.
    async fn drain(self: Arc<Self>, db: Db, keys: Option<Keys>) {
        let _idle = Idle(&self);
        loop {
            let batch = {
                let mut waiting = self.lock();
                if waiting.jobs.is_empty() {
                    waiting.draining = false;
                    return;
                }
                take_batch(&mut waiting.jobs)
            };
            super::signing::sign_batch(&db, keys.as_ref(), batch).await;
        }
    }
}

/// Up to `BATCH` jobs, at most one per participant (a second request of the same
/// participant waits for the next transaction, where it sees the first one's record).
fn take_batch(jobs: &mut VecDeque<Job>) -> Vec<Job> {
    let mut batch: Vec<Job> = Vec::with_capacity(BATCH.min(jobs.len()));
    let mut later = VecDeque::new();
    while let Some(job) = jobs.pop_front() {
        let full = batch.len() == BATCH;
        if full || batch.iter().any(|b| b.participant.id == job.participant.id) {
            later.push_back(job);
        } else {
            batch.push(job);
        }
    }
    *jobs = later;
    batch
}

/// If the signing task ends without emptying the queue (a panic), answers every
/// request still waiting with the 503 "send it again" (their answers drop) and marks
/// the queue idle, so nobody waits for a task that is gone and the next request
/// starts a new one; the jobs of the batch that failed are answered the same way.
struct Idle<'a>(&'a SigningQueue);

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut waiting = self.0.lock();
            waiting.jobs.clear();
            waiting.draining = false;
        }
    }
}
