//! Validates organization API keys for API Gateway, cheapest check first:
//! format and checksum (no I/O) → in-memory cache → one strongly consistent
//! `GetItem` on the key's hash → expiry, enabled, organization not suspended
//! (all on the item read). One binary serves three event shapes:
//! HTTP API payload 2.0 (simple responses), REST `TOKEN` and REST `REQUEST`
//! (IAM policy responses). When the store cannot be read it returns an error,
//! which API Gateway turns into a 500: it never allows on doubt. A read key
//! is trusted for the cache window when it is allowed, for the short deny
//! window when it is refused (disabled, suspended, expired), so undoing a
//! refusal works within seconds.

mod events;

use chrono::{DateTime, Utc};
use moka::sync::Cache;
use orgkeys_shared::edge::caller::OrganizationKey;
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::KeyRecord;
use orgkeys_shared::{Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use events::{AuthorizerEvent, Presented, UNAUTHORIZED};

/// Tunables, read once by `main`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a found key is trusted without a new read; zero disables caching.
    pub cache_ttl: Duration,
    /// How long a found key that is refused (disabled, its organization
    /// suspended, expired) is trusted, at most `cache_ttl`: short, so that
    /// enabling the key or resuming its organization works within seconds.
    pub deny_cache_ttl: Duration,
    /// Bound on cached keys (and, separately, on cached unknown hashes), so a
    /// flood of distinct keys cannot grow memory without limit.
    pub cache_capacity: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            cache_ttl: Duration::from_secs(30),
            deny_cache_ttl: Duration::from_secs(5),
            cache_capacity: 10_000,
        }
    }
}

impl Settings {
    /// `AUTH_CACHE_TTL_SECONDS` (default 30, 0 disables the cache) and
    /// `AUTH_DENY_CACHE_TTL_SECONDS` (default 5).
    pub fn from_env() -> Result<Settings, String> {
        let mut settings = Settings::default();
        if let Some(ttl) = seconds_from_env("AUTH_CACHE_TTL_SECONDS")? {
            settings.cache_ttl = ttl;
        }
        if let Some(ttl) = seconds_from_env("AUTH_DENY_CACHE_TTL_SECONDS")? {
            settings.deny_cache_ttl = ttl;
        }
        Ok(settings)
    }
}

fn seconds_from_env(name: &str) -> Result<Option<Duration>, String> {
    let Ok(text) = std::env::var(name) else {
        return Ok(None);
    };
    let seconds: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{name} must be whole seconds, got {text:?}"))?;
    Ok(Some(Duration::from_secs(seconds)))
}

orgkeys_api::wire_enum!(
    /// Why a presented key was refused. Logged; never sent to the client.
    DenyReason {
        /// `Authorization` and `X-Api-Key` name different keys.
        AmbiguousHeaders => "ambiguous-headers",
        /// Not a key of orgkeys' format, or its checksum fails.
        Malformed => "malformed",
        /// Well-formed but not in the table: never issued, or deleted.
        Unknown => "unknown",
        /// Past its expiry (a rolled key past its grace period included).
        Expired => "expired",
        /// Disabled by an administrator.
        Disabled => "disabled",
        /// Its organization is suspended.
        Suspended => "suspended",
    }
);

/// What the decision log says about a check besides its outcome: where the
/// answer came from and which key it was about, never the key itself. Cheap
/// to fill on the hot path (a copy and a reference count); the log line is
/// formatted from it only when it is written.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    /// The answer came from this instance's cache, not from a read.
    pub cached: bool,
    /// The key's hash, once the key parsed.
    pub hash: Option<KeyHash>,
    /// The key's record, once the key was found.
    pub record: Option<Arc<KeyRecord>>,
}

/// The outcome for a presented key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(OrganizationKey),
    Deny(DenyReason),
}

/// How often a warm instance records `lastUsedAt` for one key.
const LAST_USED_INTERVAL: Duration = Duration::from_secs(60);
/// How long a decision waits for the `lastUsedAt` write before answering
/// without it: the write must finish inside the invocation (Lambda freezes
/// the environment after it), but it never holds up a decision for long.
const LAST_USED_WRITE_TIMEOUT: Duration = Duration::from_millis(250);
/// Unknown hashes are remembered briefly: enough to absorb a retry storm with
/// a bad key, short enough not to matter.
const NEGATIVE_TTL_CAP: Duration = Duration::from_secs(5);

fn bounded<V: Clone + Send + Sync + 'static>(capacity: u64, ttl: Duration) -> Cache<KeyHash, V> {
    Cache::builder()
        .max_capacity(capacity)
        .time_to_live(ttl)
        .build()
}

/// A cache entry: what was read and when. Freshness is judged against the
/// decision's own `now` (so tests step a clock instead of sleeping); the
/// cache's own time-to-live only frees memory.
/// Times are epoch milliseconds.
#[derive(Clone)]
struct Entry<V> {
    value: V,
    read_at_ms: i64,
}

impl<V> Entry<V> {
    fn new(value: V, now: DateTime<Utc>) -> Entry<V> {
        Entry {
            value,
            read_at_ms: now.timestamp_millis(),
        }
    }

    fn fresh(&self, ttl: Duration, now_ms: i64) -> bool {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        now_ms < self.read_at_ms.saturating_add(ttl_ms)
    }
}

/// A found key as the cache keeps it: its record, and when this instance
/// last recorded its use, so a hit answers without a second cache lookup.
#[derive(Clone)]
struct Known {
    record: Arc<KeyRecord>,
    use_recorded_ms: Arc<AtomicI64>,
}

impl Known {
    fn new(record: Arc<KeyRecord>) -> Known {
        Known {
            record,
            use_recorded_ms: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }
}

/// The authorizer with its warm-instance state.
pub struct Authorizer {
    store: Store,
    /// How long a found key is trusted; unknown hashes at most [`NEGATIVE_TTL_CAP`].
    ttl: Duration,
    /// How long a found key that is refused is trusted, at most `ttl`.
    deny_ttl: Duration,
    /// Found keys by hash (never by plaintext). `None` when caching is off.
    known: Option<Cache<KeyHash, Entry<Known>>>,
    /// Hashes the table did not have.
    unknown: Option<Cache<KeyHash, Entry<()>>>,
    /// Keys whose use was recorded within the last minute.
    /// When (epoch ms) each key's use was last recorded, within the last minute.
    recently_recorded: Cache<KeyHash, i64>,
}

impl Authorizer {
    pub fn new(store: Store, settings: Settings) -> Authorizer {
        let capacity = settings.cache_capacity;
        let enabled = !settings.cache_ttl.is_zero();
        Authorizer {
            store,
            ttl: settings.cache_ttl,
            deny_ttl: settings.deny_cache_ttl.min(settings.cache_ttl),
            known: enabled.then(|| bounded(capacity, settings.cache_ttl)),
            unknown: enabled.then(|| bounded(capacity, settings.cache_ttl.min(NEGATIVE_TTL_CAP))),
            recently_recorded: bounded(capacity, LAST_USED_INTERVAL),
        }
    }

    /// How long a found key is trusted without a new read: the longest a
    /// disabled, deleted or rolled-out key may still be accepted here.
    pub fn cache_ttl(&self) -> Duration {
        self.ttl
    }

    /// Decides on a presented key at `now`. `Err` only when the store could
    /// not be read: the caller must then refuse (fail closed).
    pub async fn check(&self, presented: &str, now: DateTime<Utc>) -> Result<Decision, StoreError> {
        self.check_traced(presented, now).await.0
    }

    /// [`check`](Self::check), with what the decision log needs to know.
    pub async fn check_traced(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> (Result<Decision, StoreError>, Trace) {
        let mut trace = Trace::default();
        let Ok(key) = ApiKey::parse(presented) else {
            return (Ok(Decision::Deny(DenyReason::Malformed)), trace);
        };
        let hash = KeyHash::of(&key);
        trace.hash = Some(hash);
        let known = match self.cached(&hash, now) {
            Some(found) => {
                trace.cached = true;
                found
            }
            // Boxed: the read's future is large, and a hit should not carry
            // (and move) its state.
            None => match Box::pin(self.load(&hash, now)).await {
                Ok(found) => found,
                Err(err) => return (Err(err), trace),
            },
        };
        let Some(known) = known else {
            return (Ok(Decision::Deny(DenyReason::Unknown)), trace);
        };
        let record = known.record.clone();
        trace.record = Some(record.clone());
        // Checked on every hit too: an expiry inside the cache window still counts.
        if record.is_expired(now) {
            return (Ok(Decision::Deny(DenyReason::Expired)), trace);
        }
        if !record.enabled {
            return (Ok(Decision::Deny(DenyReason::Disabled)), trace);
        }
        if record.terms.suspended {
            return (Ok(Decision::Deny(DenyReason::Suspended)), trace);
        }
        if self.use_needs_recording(&hash, &known, now) {
            Box::pin(self.record_use(&known, now)).await;
        }
        let allowed = OrganizationKey {
            organization_id: record.organization_id.clone(),
            key_id: record.key_id.clone(),
            scopes: record.scopes.clone(),
            limits: record.limits(),
        };
        (Ok(Decision::Allow(allowed)), trace)
    }

    /// `Some(Some(record))` for a cached key, `Some(None)` for a cached unknown
    /// hash, `None` when the cache has nothing to say.
    fn cached(&self, hash: &KeyHash, now: DateTime<Utc>) -> Option<Option<Known>> {
        let now_ms = now.timestamp_millis();
        let known = self.known.as_ref().and_then(|c| c.get(hash));
        if let Some(entry) = known.filter(|e| e.fresh(self.ttl_of(&e.value.record, now), now_ms)) {
            return Some(Some(entry.value));
        }
        let unknown = self.unknown.as_ref().and_then(|c| c.get(hash));
        unknown
            .filter(|e| e.fresh(self.ttl.min(NEGATIVE_TTL_CAP), now_ms))
            .map(|_| None)
    }

    /// How long a read of `record` answers: a grant the full window, a
    /// refusal only the short one, since it is undone by enabling the key,
    /// resuming the organization or moving the expiry.
    fn ttl_of(&self, record: &KeyRecord, now: DateTime<Utc>) -> Duration {
        if record.enabled && !record.terms.suspended && !record.is_expired(now) {
            self.ttl
        } else {
            self.deny_ttl
        }
    }

    async fn load(&self, hash: &KeyHash, now: DateTime<Utc>) -> Result<Option<Known>, StoreError> {
        let found = self.store.find_key(hash).await?;
        match found {
            Some(record) => {
                let known = Known::new(Arc::new(record));
                if let Some(cache) = &self.known {
                    cache.insert(*hash, Entry::new(known.clone(), now));
                }
                Ok(Some(known))
            }
            None => {
                if let Some(cache) = &self.unknown {
                    cache.insert(*hash, Entry::new((), now));
                }
                Ok(None)
            }
        }
    }

    /// Whether this use is the first of the key's minute on this instance;
    /// if so it counts as recorded from now on. A hit answers from its own
    /// entry; the shared record of uses is consulted only past the minute.
    fn use_needs_recording(&self, hash: &KeyHash, known: &Known, now: DateTime<Utc>) -> bool {
        let now_ms = now.timestamp_millis();
        let interval_ms = LAST_USED_INTERVAL.as_millis() as i64;
        // Most hits: this entry saw the use recorded within the minute.
        let recorded_ms = known.use_recorded_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(recorded_ms) < interval_ms {
            return false;
        }
        if let Some(recorded_ms) = self.recently_recorded.get(hash) {
            known.use_recorded_ms.store(recorded_ms, Ordering::Relaxed);
            return false;
        }
        self.recently_recorded.insert(*hash, now_ms);
        known.use_recorded_ms.store(now_ms, Ordering::Relaxed);
        true
    }

    /// Stamps `lastUsedAt` (at most once a minute per key per instance, as
    /// [`use_needs_recording`](Self::use_needs_recording) decides) before the
    /// decision is returned (a write left in the background may never run
    /// once Lambda freezes the environment). Its failure or slowness never
    /// changes the decision.
    async fn record_use(&self, known: &Known, now: DateTime<Utc>) {
        let record = &known.record;
        let (org_id, key_id) = (&record.organization_id, &record.key_id);
        let write = self.store.record_key_use(org_id, key_id, now);
        match tokio::time::timeout(LAST_USED_WRITE_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(%org_id, key_id, error = %err, "could not record key use")
            }
            Err(_) => tracing::warn!(%org_id, key_id, "recording key use timed out"),
        }
    }
}
