//! Finds the running actor for an id, or starts one. Actors are spread over a
//! few arbiters (threads); an actor that stops removes itself.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix::prelude::*;

/// Live actors of one kind, by id.
pub struct Registry<K, A: Actor<Context = Context<A>>> {
    actors: Arc<Mutex<HashMap<K, Addr<A>>>>,
    arbiters: Arc<[ArbiterHandle]>,
    next: Arc<AtomicUsize>,
}

impl<K, A: Actor<Context = Context<A>>> Clone for Registry<K, A> {
    fn clone(&self) -> Self {
        Self {
            actors: self.actors.clone(),
            arbiters: self.arbiters.clone(),
            next: self.next.clone(),
        }
    }
}

impl<K, A> Registry<K, A>
where
    K: Eq + Hash + Clone + Send + 'static,
    A: Actor<Context = Context<A>> + Send,
{
    /// A registry starting actors on `arbiters` new threads (at least one).
    /// Must be called inside a running actix `System`.
    pub fn new(arbiters: usize) -> Self {
        let handles: Vec<ArbiterHandle> = (0..arbiters.max(1))
            .map(|_| Arbiter::new().handle())
            .collect();
        Self {
            actors: Arc::default(),
            arbiters: handles.into(),
            next: Arc::default(),
        }
    }

    /// The running actor for `key`, if any.
    pub fn running(&self, key: &K) -> Option<Addr<A>> {
        let mut actors = self.actors.lock().ok()?;
        match actors.get(key) {
            Some(addr) if addr.connected() => Some(addr.clone()),
            Some(_) => {
                actors.remove(key);
                None
            }
            None => None,
        }
    }

    /// The running actor for `key`, or a new one made by `make` (called only
    /// when none runs).
    pub fn get_or_start(&self, key: K, make: impl FnOnce() -> A + Send + 'static) -> Addr<A> {
        let Ok(mut actors) = self.actors.lock() else {
            // A poisoned map still lets the caller work with a fresh actor.
            return A::start_in_arbiter(&self.arbiters[0], move |_| make());
        };
        if let Some(addr) = actors.get(&key).filter(|a| a.connected()) {
            return addr.clone();
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        let addr = A::start_in_arbiter(&self.arbiters[i], move |_| make());
        actors.insert(key, addr.clone());
        addr
    }

    /// Forgets `key` if it still maps to `addr` (called by a stopping actor).
    pub fn remove(&self, key: &K, addr: &Addr<A>) {
        if let Ok(mut actors) = self.actors.lock() {
            if actors.get(key).is_some_and(|a| a == addr) {
                actors.remove(key);
            }
        }
    }

    /// Stops every actor of this registry with their threads (shutdown).
    pub fn stop(&self) {
        for arbiter in self.arbiters.iter() {
            arbiter.stop();
        }
    }

    /// How many actors run.
    pub fn len(&self) -> usize {
        self.actors.lock().map(|a| a.len()).unwrap_or(0)
    }

    /// True when none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
