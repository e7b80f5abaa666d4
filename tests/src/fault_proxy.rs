//! A TCP proxy between a DynamoDB client and the DynamoDB server that lets a
//! test cut the store off on demand (after a budget of requests, every new
//! request's connection is dropped), stall it (requests are held, unanswered),
//! until the test heals the proxy, or lose one reply (the request reaches the
//! server and is applied, its answer never reaches the client). Real sockets,
//! real SDK timeouts and retries, no fake store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Handle on a running proxy; it stops when the test's runtime ends.
#[derive(Clone)]
pub struct FaultProxy {
    /// Requests still allowed through; negative means cut.
    budget: Arc<AtomicI64>,
    /// While set, requests are held without an answer.
    stalled: Arc<AtomicBool>,
    /// Requests until the one whose reply is lost; 0 or less: none.
    lose_reply_in: Arc<AtomicI64>,
    pub endpoint: String,
}

const UNLIMITED: i64 = i64::MAX / 2;

impl FaultProxy {
    /// Starts a proxy to `target` (`http://host:port`), passing everything.
    pub async fn start(target: &str) -> FaultProxy {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("proxy address"));
        let budget = Arc::new(AtomicI64::new(UNLIMITED));
        let stalled = Arc::new(AtomicBool::new(false));
        let lose_reply_in = Arc::new(AtomicI64::new(0));
        let faults = Faults {
            budget: budget.clone(),
            stalled: stalled.clone(),
            lose_reply_in: lose_reply_in.clone(),
        };
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (target, faults) = (target.clone(), faults.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&target).await {
                        relay(client, server, faults).await;
                    }
                });
            }
        });
        FaultProxy {
            budget,
            stalled,
            lose_reply_in,
            endpoint,
        }
    }

    /// Passes the request `n` requests from now (1: the next one) to the
    /// server, then drops its connection instead of relaying the reply.
    pub fn lose_reply_to(&self, n: i64) {
        self.lose_reply_in.store(n, Ordering::SeqCst);
    }

    /// Holds every request from now on without answering it.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// Lets `requests` more requests through, then cuts every later one.
    pub fn cut_after(&self, requests: i64) {
        self.budget.store(requests, Ordering::SeqCst);
    }

    /// Lets everything through again.
    pub fn heal(&self) {
        self.budget.store(UNLIMITED, Ordering::SeqCst);
        self.stalled.store(false, Ordering::SeqCst);
        self.lose_reply_in.store(0, Ordering::SeqCst);
    }
}

/// The proxy's switches, shared by every connection.
#[derive(Clone)]
struct Faults {
    budget: Arc<AtomicI64>,
    stalled: Arc<AtomicBool>,
    lose_reply_in: Arc<AtomicI64>,
}

async fn relay(mut client: TcpStream, server: TcpStream, faults: Faults) {
    let Faults {
        budget,
        stalled,
        lose_reply_in,
    } = faults;
    // Set when this connection carries the request whose reply is lost.
    let lose_reply = AtomicBool::new(false);
    let (mut from_server, mut to_server) = server.into_split();
    let (mut from_client, mut to_client) = client.split();
    let upstream = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from_client.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // Each request starts with its request line; the SDK sends `POST / HTTP/1.1`.
            let starts = buf[..n].windows(7).filter(|w| w == b"POST / ").count() as i64;
            if starts > 0 && budget.fetch_sub(starts, Ordering::SeqCst) - starts < 0 {
                return; // cut: dropping both halves closes the connection
            }
            if starts > 0 && lose_reply_in.fetch_sub(starts, Ordering::SeqCst) == starts {
                lose_reply.store(true, Ordering::SeqCst);
            }
            while stalled.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if to_server.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let downstream = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from_server.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if lose_reply.load(Ordering::SeqCst) {
                return; // the server answered; the client never hears it
            }
            if to_client.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
    }
}
