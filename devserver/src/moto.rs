//! The embedded DynamoDB-API server: moto's server as `scripts/moto_dynamodb.py`
//! runs it (one request at a time, as DynamoDB's atomicity needs), with the
//! Python of the project's `.venv` made by `scripts/venv`, started on a free
//! loopback port. It stops when this value drops, and in any case when the
//! process that started it ends (`--parent-pid`), so the test harness can keep
//! one in a static for the whole test process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct EmbeddedMoto {
    pub endpoint: String,
    child: Child,
}

/// The project's checkout, where `.venv` and `scripts/` are.
fn project_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The Python that has moto: the project's `.venv`.
pub fn default_python() -> PathBuf {
    project_dir().join(".venv/bin/python")
}

impl EmbeddedMoto {
    /// Starts moto with the Python at `python` and waits (up to 15 s) until it
    /// listens. Blocking: call it before serving, or once per test process.
    pub fn start(python: PathBuf) -> Result<EmbeddedMoto, String> {
        if !python.exists() {
            return Err(format!(
                "{} not found: run scripts/venv (it installs moto into .venv), \
                 or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB-API server",
                python.display()
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = Command::new(&python)
            .arg(project_dir().join("scripts/moto_dynamodb.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(["--parent-pid", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("could not start moto with {}: {e}", python.display()))?;
        let server = EmbeddedMoto {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("moto did not listen on port {port} within 15 s"))
    }
}

impl Drop for EmbeddedMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
