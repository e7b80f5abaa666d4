//! The embedded DynamoDB-API server: moto's server as `scripts/moto_dynamodb.py`
//! runs it (one request at a time, as DynamoDB's atomicity needs), with the
//! Python of the project's `.venv` made by `scripts/venv`, started on a free
//! loopback port and stopped with the gateway (the child is killed when this
//! value drops).

use std::path::PathBuf;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct EmbeddedMoto {
    pub endpoint: String,
    _child: Child,
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
    /// Starts moto with the Python at `python`.
    pub async fn start(python: PathBuf) -> Result<EmbeddedMoto, String> {
        if !python.exists() {
            return Err(format!(
                "{} not found: run scripts/dev (it installs moto into .venv), \
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
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start moto with {}: {e}", python.display()))?;
        let server = EmbeddedMoto {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
        };
        for _ in 0..150 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("moto did not listen on port {port} within 15 s"))
    }
}
