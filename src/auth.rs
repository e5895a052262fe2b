//! Who may call what. Callers present a bearer token (`authorization: Bearer <token>`); the
//! token file (`--auth-file`) holds, per token, its SHA-256 (never the token), a name for the
//! logs and a role:
//! - `agent`, bound to one agent id: presence, heartbeats, pulls and work sessions, replies,
//!   pending, release and resolve, accepting and rejecting offers, each only as that agent;
//! - `integrator`: tickets (create, update, cancel, reopen, read, customer replies, agent
//!   replies recorded on the agent's behalf, follow-ups, resolve without a lease) and agent
//!   profiles;
//! - `admin`: the policy, stats and events, and everything else, as any agent.
//!
//! Guarantees: a missing or unknown token is UNAUTHENTICATED and a known token asking for more
//! than its role is PERMISSION_DENIED, before the request is validated or reaches the
//! scheduler, so a refused call changes nothing. Digests are compared in constant time. The
//! file is re-read on SIGHUP; a file that does not load leaves the tokens in force as they were.
//! Health checks and server reflection stay open.
//!
//! A token's name is also who the audit trail says caused what the token's calls change
//! (`Event.actor`; two tokens may share a name while one replaces the other), and the names
//! the daemon itself uses (`system`, `anonymous`, `unknown`) are refused.

use crate::core::event::Actor;
use crate::core::types::AgentId;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;
use tonic::{Request, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Integrator,
    Admin,
}

/// What a call needs of its caller.
#[derive(Clone, Copy, Debug)]
pub enum Need<'a> {
    Integrator,
    /// To create a ticket with a `created_at` (an import): the integrator or admin role, as
    /// for any create; the refusal names the field (of batch item `item`, if in a batch).
    Backdate {
        item: Option<usize>,
    },
    Admin,
    /// To act as this agent (an admin may act as any).
    Agent(&'a str),
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Principal {
    name: Actor,
    role: Role,
    agent: Option<AgentId>,
}

impl Principal {
    /// Everyone, when the daemon runs without a token file (loopback only, or `--insecure`):
    /// `anonymous` in the audit trail.
    fn open() -> Principal {
        Principal {
            name: Actor::anonymous(),
            role: Role::Admin,
            agent: None,
        }
    }

    /// Who the audit trail says made this caller's changes: its token's name.
    pub fn actor(&self) -> Actor {
        self.name.clone()
    }

    /// Refuses with PERMISSION_DENIED unless this caller may do what `need` says.
    pub fn require(&self, need: Need<'_>) -> Result<(), Status> {
        let allowed = match (self.role, need) {
            (Role::Admin, _) => true,
            (Role::Integrator, Need::Integrator | Need::Backdate { .. }) => true,
            (Role::Agent, Need::Agent(id)) => self.agent.as_ref().is_some_and(|a| a.as_str() == id),
            _ => false,
        };
        if allowed {
            return Ok(());
        }
        let who = match &self.agent {
            Some(agent) => format!("token '{}' (agent {agent})", self.name),
            None => format!("token '{}' ({:?})", self.name, self.role),
        };
        let what = match need {
            Need::Integrator => "needs the integrator or admin role".to_string(),
            Need::Backdate { item } => {
                let at = item.map_or(String::new(), |i| format!("tickets[{i}]."));
                format!("sets {at}created_at (an import), which needs the integrator or admin role")
            }
            Need::Admin => "needs the admin role".to_string(),
            Need::Agent(id) => format!("may be done only as agent '{id}'"),
        };
        Err(Status::permission_denied(format!(
            "{who}: this call {what}"
        )))
    }
}

/// The caller of `request`, as the interceptor found it. A request that did not pass the
/// interceptor has no principal and is refused.
pub fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("no credentials were checked for this call"))
}

/// The hex SHA-256 of a token, as the token file stores it.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random token: 32 bytes from the OS, hex-encoded.
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(format!("trg_{}", hex(&bytes)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    sha256: String,
    role: Role,
    agent_id: Option<String>,
}

struct Known {
    digest: [u8; 32],
    principal: Principal,
}

/// The tokens in force.
struct TokenSet(Vec<Known>);

impl TokenSet {
    fn load(path: &Path) -> anyhow::Result<TokenSet> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let how = match e.kind() {
                std::io::ErrorKind::NotFound => {
                    " (make one with `triage ctl token --name NAME --role ROLE >> FILE`, and \
                     mount it there; README \"Deployment\")"
                }
                _ => "",
            };
            anyhow::anyhow!("cannot read token file {}: {e}{how}", path.display())
        })?;
        let file: TokenFile = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("token file {}: {e}", path.display()))?;
        let mut known: Vec<Known> = Vec::with_capacity(file.token.len());
        for (i, entry) in file.token.into_iter().enumerate() {
            let k = Known::from_entry(entry).map_err(|e| {
                anyhow::anyhow!("token file {}: token {}: {e}", path.display(), i + 1)
            })?;
            anyhow::ensure!(
                known.iter().all(|other| other.digest != k.digest),
                "token file {}: token {} ('{}') has the same hash as an earlier one",
                path.display(),
                i + 1,
                k.principal.name
            );
            known.push(k);
        }
        Ok(TokenSet(known))
    }

    /// The principal whose digest matches; every entry is compared, in constant time.
    fn find(&self, token: &str) -> Option<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for k in &self.0 {
            if bool::from(k.digest.ct_eq(&digest)) {
                found = Some(k.principal.clone());
            }
        }
        found
    }
}

impl Known {
    fn from_entry(e: TokenEntry) -> Result<Known, String> {
        if e.name.trim().is_empty() {
            return Err("name is required".into());
        }
        if Actor::RESERVED.contains(&e.name.as_str()) {
            return Err(format!(
                "name '{}' is reserved: the audit trail uses it for events no token caused",
                e.name
            ));
        }
        let digest = parse_digest(&e.sha256)?;
        let agent = match (e.role, e.agent_id) {
            (Role::Agent, Some(id)) => {
                Some(AgentId::parse(&id).map_err(|e| format!("agent_id: {e}"))?)
            }
            (Role::Agent, None) => return Err("agent_id is required for the agent role".into()),
            (_, Some(_)) => return Err("agent_id is only for the agent role".into()),
            (_, None) => None,
        };
        let principal = Principal {
            name: Actor::named(&e.name),
            role: e.role,
            agent,
        };
        Ok(Known { digest, principal })
    }
}

fn parse_digest(hex: &str) -> Result<[u8; 32], String> {
    let bad = || "sha256 must be 64 hex digits (triage ctl token prints one)".to_string();
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Authenticates every request of the services it wraps (a tonic interceptor) against the
/// token file, or lets everyone in when there is none.
#[derive(Clone)]
pub struct Authenticator {
    tokens: Option<Arc<Tokens>>,
}

/// The token file and the tokens loaded from it, swapped whole on reload.
pub struct Tokens {
    path: PathBuf,
    set: RwLock<Arc<TokenSet>>,
}

impl Authenticator {
    /// No token file: every caller is let in.
    pub fn open() -> Authenticator {
        Authenticator { tokens: None }
    }

    /// Loads the token file; fails (the daemon does not start) if it does not load.
    pub fn from_file(path: &Path) -> anyhow::Result<Authenticator> {
        let set = TokenSet::load(path)?;
        tracing::info!(tokens = set.0.len(), file = %path.display(), "authentication is on");
        Ok(Authenticator {
            tokens: Some(Arc::new(Tokens {
                path: path.to_path_buf(),
                set: RwLock::new(Arc::new(set)),
            })),
        })
    }

    /// Re-reads the token file; on failure the tokens in force stay and the error is logged.
    pub fn reload(&self) {
        let Some(tokens) = &self.tokens else {
            tracing::info!("SIGHUP: no token file to reload (authentication is off)");
            return;
        };
        match TokenSet::load(&tokens.path) {
            Ok(set) => {
                let n = set.0.len();
                if let Ok(mut current) = tokens.set.write() {
                    *current = Arc::new(set);
                }
                tracing::info!(tokens = n, "token file reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "token file not reloaded; the tokens in force stay")
            }
        }
    }

    fn authenticate(&self, request: &Request<()>) -> Result<Principal, Status> {
        let Some(tokens) = &self.tokens else {
            return Ok(Principal::open());
        };
        let token = bearer(request)?;
        let set = tokens
            .set
            .read()
            .map(|set| Arc::clone(&set))
            .map_err(|_| Status::internal("token set unavailable"))?;
        set.find(token)
            .ok_or_else(|| Status::unauthenticated("unknown bearer token"))
    }
}

/// What a wallboard viewer's token is worth (the board is served over plain HTTP on the
/// metrics port, outside the gRPC interceptor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Authentication is off, or an admin or integrator token: may see the board.
    Allowed,
    /// No token, or one the token file does not know: HTTP 401.
    Unauthenticated,
    /// A known agent token: HTTP 403 (the board shows every queue, not one agent's work).
    Forbidden,
}

impl Authenticator {
    /// Whether a wallboard viewer presenting `token` may see the board: everyone when there
    /// is no token file (as for gRPC), else an admin or integrator token.
    pub fn viewer(&self, token: Option<&str>) -> Viewer {
        let Some(tokens) = &self.tokens else {
            return Viewer::Allowed;
        };
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Viewer::Unauthenticated;
        };
        let found = tokens.set.read().ok().and_then(|set| set.find(token));
        match found.map(|p| p.role) {
            None => Viewer::Unauthenticated,
            Some(Role::Agent) => Viewer::Forbidden,
            Some(Role::Admin | Role::Integrator) => Viewer::Allowed,
        }
    }
}

fn bearer(request: &Request<()>) -> Result<&str, Status> {
    let missing =
        || Status::unauthenticated("missing credentials: send 'authorization: Bearer <token>'");
    let value = request
        .metadata()
        .get("authorization")
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(token.trim())
}

impl tonic::service::Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let principal = self.authenticate(&request)?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> String {
        format!(
            "[[token]]\nname = \"{name}\"\nsha256 = \"{}\"\nrole = \"integrator\"\n",
            hash_token(name)
        )
    }

    /// A token may not take a name the audit trail uses for events no token caused; any
    /// other name is who its calls' events say caused them.
    #[test]
    fn the_audit_trails_own_names_are_refused_as_token_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tokens.toml");
        for name in Actor::RESERVED {
            std::fs::write(&path, entry(name)).expect("write");
            let err = TokenSet::load(&path).err().expect("refused");
            assert!(err.to_string().contains("reserved"), "{err}");
        }
        std::fs::write(&path, entry("crm")).expect("write");
        let set = TokenSet::load(&path).expect("loads");
        let found = set.find("crm").expect("the token is known");
        assert_eq!(found.actor(), Actor::named("crm"));
        assert_eq!(Principal::open().actor(), Actor::anonymous());
    }
}
