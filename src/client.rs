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
    /// The endpoint for `addr` (see `uri`: `host:port`, a bare host, or a URI), Nagle off.
    pub fn endpoint(&self, addr: &str) -> anyhow::Result<Endpoint> {
        let uri = uri(addr, self.ca_cert.is_some())?;
        let mut endpoint = Endpoint::from_shared(uri)?.tcp_nodelay(true);
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

    /// A connection to whichever of `addrs` (comma separated: the nodes of one cluster)
    /// leads; one address is connected as it is. See `leader_of`.
    pub async fn connect_leader(&self, addrs: &str) -> anyhow::Result<Conn> {
        let addr = self.leader_of(addrs).await?;
        self.connect(&addr).await
    }

    /// Which of `addrs` (comma separated) leads: the first whose `grpc.health.v1` says
    /// SERVING, trying first the leader a follower names (`triage-leader` metadata on its
    /// UNAVAILABLE); tried again for up to `FIND_LEADER_PATIENCE` while nobody leads (a
    /// takeover takes a second or a few). One address is returned as it is, unchecked.
    pub async fn leader_of(&self, addrs: &str) -> anyhow::Result<String> {
        let mut list: Vec<String> = addrs
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect();
        if list.len() <= 1 {
            return Ok(addrs.trim().to_owned());
        }
        let started = std::time::Instant::now();
        loop {
            let mut hinted = Vec::new();
            for addr in &list {
                match self.leads(addr).await {
                    Some(None) => return Ok(addr.clone()),
                    Some(Some(hint)) if !hinted.contains(&hint) => hinted.push(hint),
                    _ => {}
                }
            }
            for hint in hinted.iter().filter(|h| !list.contains(h)) {
                if let Some(None) = self.leads(hint).await {
                    return Ok(hint.clone());
                }
            }
            if started.elapsed() >= FIND_LEADER_PATIENCE {
                anyhow::bail!(
                    "none of {addrs} leads (no node answered SERVING within {}s)",
                    FIND_LEADER_PATIENCE.as_secs()
                );
            }
            list.rotate_left(1);
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// `Some(None)` when `addr` serves (leads); `Some(Some(leader))` when it names the
    /// leader; `None` when it failed, or did not answer within `PROBE_TIMEOUT` (a paused node
    /// accepts connections but answers nothing).
    async fn leads(&self, addr: &str) -> Option<Option<String>> {
        let probe = tokio::time::timeout(PROBE_TIMEOUT, self.probe(addr)).await;
        probe.ok()?.ok()
    }

    async fn probe(&self, addr: &str) -> anyhow::Result<Option<String>> {
        use tonic_health::pb::health_client::HealthClient;
        use tonic_health::pb::{health_check_response::ServingStatus, HealthCheckRequest};
        let channel = self.endpoint(addr)?.connect().await?;
        let mut health = HealthClient::new(self.wrap(channel.clone())?);
        let request = HealthCheckRequest {
            service: String::new(),
        };
        let status = health.check(request).await?.into_inner().status();
        if status == ServingStatus::Serving {
            return Ok(None);
        }
        let mut admin =
            crate::proto::admin_service_client::AdminServiceClient::new(self.wrap(channel)?);
        let refused = admin
            .get_sla_policy(crate::proto::GetSlaPolicyRequest::default())
            .await
            .err();
        Ok(refused.and_then(|status| leader_named(&status)))
    }

    pub async fn connect(&self, addr: &str) -> anyhow::Result<Conn> {
        let channel = self.endpoint(addr)?.connect().await.map_err(|e| {
            anyhow::anyhow!("cannot reach triage at {addr}: {e} (is `triage serve` running?)")
        })?;
        self.wrap(channel)
    }
}

/// How long `leader_of` looks for a leader among several addresses.
pub const FIND_LEADER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(15);

/// How long `leader_of` waits for one node's answer.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// The leader a follower's UNAVAILABLE names in its `triage-leader` metadata.
pub fn leader_named(status: &tonic::Status) -> Option<String> {
    let value = status.metadata().get(LEADER_METADATA)?;
    value.to_str().ok().map(str::to_owned)
}

/// The response metadata key in which a follower names the leader.
pub const LEADER_METADATA: &str = "triage-leader";

/// The port `triage serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 50051;

/// The URI for an address as users type it: `http://host:port` and `https://host:port` as
/// they are; `host:port`, `host`, `localhost`, `[::1]` or `::1` get the scheme (`https` when
/// `tls`, the client trusting a CA) and, if missing, port 50051. A scheme that contradicts
/// the TLS flags is refused here, where it can be explained.
pub fn uri(addr: &str, tls: bool) -> anyhow::Result<String> {
    let addr = addr.trim();
    let (scheme, rest) = match addr.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => (if tls { "https" } else { "http" }.to_string(), addr),
    };
    match (scheme.as_str(), tls) {
        ("http", true) => anyhow::bail!(
            "--addr {addr} says http:// but --ca-cert asks for TLS: use https:// or host:port"
        ),
        ("https", false) => anyhow::bail!(
            "--addr {addr} says https://: give --ca-cert (the CA that signed the daemon's certificate)"
        ),
        ("http" | "https", _) => {}
        _ => anyhow::bail!("--addr {addr}: use host:port, http://host:port or https://host:port"),
    }
    let rest = rest.trim_end_matches('/');
    anyhow::ensure!(!rest.is_empty(), "--addr {addr} names no host");
    Ok(format!("{scheme}://{}", with_port(rest)))
}

/// `host` with `:50051` added when it has no port; a bare IPv6 address gets its brackets.
fn with_port(host: &str) -> String {
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return format!("[{host}]:{DEFAULT_PORT}");
    }
    let has_port = match host.rsplit_once(':') {
        Some((name, port)) => !port.is_empty() && (!name.contains(':') || name.ends_with(']')),
        None => false,
    };
    if has_port {
        host.to_string()
    } else {
        format!("{}:{DEFAULT_PORT}", host.trim_end_matches(':'))
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn addresses_as_users_type_them_become_uris() {
        let ok = |addr: &str, tls: bool| uri(addr, tls).expect(addr);
        assert_eq!(ok("127.0.0.1:50051", false), "http://127.0.0.1:50051");
        assert_eq!(ok("http://127.0.0.1:7000", false), "http://127.0.0.1:7000");
        assert_eq!(ok("HTTP://127.0.0.1:7000/", false), "http://127.0.0.1:7000");
        assert_eq!(ok("localhost", false), "http://localhost:50051");
        assert_eq!(ok("localhost:7000", false), "http://localhost:7000");
        assert_eq!(
            ok("triage.example:7000", true),
            "https://triage.example:7000"
        );
        assert_eq!(ok("https://localhost", true), "https://localhost:50051");
        assert_eq!(ok("[::1]:7000", false), "http://[::1]:7000");
        assert_eq!(ok("[::1]", false), "http://[::1]:50051");
        assert_eq!(ok("::1", false), "http://[::1]:50051");
    }

    #[test]
    fn a_scheme_against_the_tls_flags_is_explained() {
        let err = |addr: &str, tls: bool| uri(addr, tls).expect_err(addr).to_string();
        assert!(err("http://localhost:1", true).contains("--ca-cert"));
        assert!(err("https://localhost:1", false).contains("--ca-cert"));
        assert!(err("ftp://localhost:1", false).contains("host:port"));
        assert!(err("http://", false).contains("no host"));
    }
}
