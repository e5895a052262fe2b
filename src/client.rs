//! How `triage ctl` and `triage bench` reach a daemon: the address, TLS (a CA to trust, and a
//! client certificate for mutual TLS) and the bearer token sent with every call.

use std::path::PathBuf;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

#[derive(clap::Args, Clone, Debug, Default)]
pub struct ClientArgs {
    /// Bearer token sent with every call (`triage ctl token` makes one)
    #[arg(long, env = "TRIAGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Speak TLS and trust this CA (PEM) for the daemon's certificate
    #[arg(long, env = "TRIAGE_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// Mutual TLS: this client's certificate (PEM)
    #[arg(long, env = "TRIAGE_CLIENT_CERT", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// Mutual TLS: this client's private key (PEM)
    #[arg(long, env = "TRIAGE_CLIENT_KEY", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

/// A connection whose every call carries the token, if one was given.
pub type Conn = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer <token>` to each call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl ClientArgs {
    /// The endpoint for `addr` (`http://` or, with `--ca-cert`, `https://`), Nagle off.
    pub fn endpoint(&self, addr: &str) -> anyhow::Result<Endpoint> {
        let mut endpoint = Endpoint::from_shared(addr.to_string())?.tcp_nodelay(true);
        if let Some(ca) = &self.ca_cert {
            let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?));
            if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
                tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        Ok(endpoint)
    }

    pub fn bearer(&self) -> anyhow::Result<Bearer> {
        let value = match &self.token {
            Some(token) => Some(
                format!("Bearer {token}")
                    .parse()
                    .map_err(|_| anyhow::anyhow!("the token must be printable ASCII"))?,
            ),
            None => None,
        };
        Ok(Bearer(value))
    }

    /// Wraps an established channel so its calls carry the token.
    pub fn wrap(&self, channel: Channel) -> anyhow::Result<Conn> {
        Ok(InterceptedService::new(channel, self.bearer()?))
    }

    pub async fn connect(&self, addr: &str) -> anyhow::Result<Conn> {
        let channel = self.endpoint(addr)?.connect().await.map_err(|e| {
            anyhow::anyhow!("cannot reach triage at {addr}: {e} (is `triage serve` running?)")
        })?;
        self.wrap(channel)
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}
