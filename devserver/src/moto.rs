//! The embedded DynamoDB-API server: moto's `moto_server`, installed into the
//! project's `.venv` by `scripts/venv`, started on a free loopback port and
//! stopped with the gateway (the child is killed when this value drops).

use std::path::PathBuf;
use std::time::Duration;
use tokio::process::{Child, Command};

pub struct EmbeddedMoto {
    pub endpoint: String,
    _child: Child,
}

/// Where `scripts/venv` puts moto; `ORGKEYS_MOTO_SERVER` overrides it.
pub fn default_path() -> PathBuf {
    std::env::var_os("ORGKEYS_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../.venv/bin/moto_server"
            ))
        })
}

impl EmbeddedMoto {
    pub async fn start(path: PathBuf) -> Result<EmbeddedMoto, String> {
        if !path.exists() {
            return Err(format!(
                "{} not found: run scripts/dev (it installs moto into .venv), \
                 or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB-API server",
                path.display()
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let child = Command::new(&path)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", path.display()))?;
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
        Err(format!(
            "moto_server did not listen on port {port} within 15 s"
        ))
    }
}
