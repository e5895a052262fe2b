//! TLS and mutual TLS with certificates made in the test (rcgen): a plaintext client is
//! refused, a client trusting the CA gets through, and with a client CA only a client with a
//! certificate it issued does. The client side is `triage::client`, as `triage ctl` uses it.

use crate::common::{temp, Daemon};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use triage::client::ClientArgs;
use triage::proto as pb;

/// A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, as PEM
/// files in `dir`.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "triage test CA");
    let ca_key = KeyPair::generate().expect("ca key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(names).expect("params");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &ca_cert, &ca_key).expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) =
        leaf(vec!["ana-desk".into()], ExtendedKeyUsagePurpose::ClientAuth);
    let write = |name: &str, pem: &str| {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("write pem");
        path
    };
    Pki {
        ca: write("ca.pem", &ca_cert.pem()),
        server_cert: write("server.pem", &server_cert),
        server_key: write("server.key", &server_key),
        client_cert: write("client.pem", &client_cert),
        client_key: write("client.key", &client_key),
    }
}

fn start(dir: &Path, pki: &Pki, mutual: bool) -> Daemon {
    let s = |p: &PathBuf| p.to_str().expect("utf-8").to_string();
    let (cert, key, ca) = (s(&pki.server_cert), s(&pki.server_key), s(&pki.ca));
    let mut env = vec![
        ("TRIAGE_TLS_CERT", cert.as_str()),
        ("TRIAGE_TLS_KEY", key.as_str()),
    ];
    if mutual {
        env.push(("TRIAGE_TLS_CLIENT_CA", ca.as_str()));
    }
    Daemon::start_with_env(dir, None, &env)
}

/// Calls GetQueueStats through `client` at the daemon's address over https.
async fn stats(d: &Daemon, client: &ClientArgs) -> anyhow::Result<pb::GetQueueStatsResponse> {
    let addr = d.grpc.replace("http://", "https://");
    let conn = client.connect(&addr).await?;
    let mut admin = pb::admin_service_client::AdminServiceClient::new(conn);
    Ok(admin
        .get_queue_stats(pb::GetQueueStatsRequest {})
        .await?
        .into_inner())
}

#[tokio::test]
async fn tls_refuses_plaintext_and_serves_a_client_that_trusts_the_ca() {
    let dir = temp();
    let pki = pki(dir.path());
    let d = start(dir.path(), &pki, false);
    let plain = ClientArgs::default();
    let conn = plain.connect(&d.grpc).await;
    let refused = match conn {
        Err(_) => true,
        Ok(conn) => pb::admin_service_client::AdminServiceClient::new(conn)
            .get_queue_stats(pb::GetQueueStatsRequest {})
            .await
            .is_err(),
    };
    assert!(refused, "a plaintext call must fail");

    let trusting = ClientArgs {
        ca_cert: Some(pki.ca.clone()),
        ..Default::default()
    };
    stats(&d, &trusting)
        .await
        .expect("a TLS call trusting the CA");
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate_from_the_ca() {
    let dir = temp();
    let pki = pki(dir.path());
    let d = start(dir.path(), &pki, true);
    let without = ClientArgs {
        ca_cert: Some(pki.ca.clone()),
        ..Default::default()
    };
    assert!(stats(&d, &without).await.is_err(), "no client certificate");

    // A certificate the CA did not issue: the server's CA-less twin, self-signed.
    let stranger_key = KeyPair::generate().expect("key");
    let stranger = CertificateParams::new(vec!["mallory".to_string()])
        .expect("params")
        .self_signed(&stranger_key)
        .expect("self-signed");
    let (cert, key) = (dir.path().join("m.pem"), dir.path().join("m.key"));
    std::fs::write(&cert, stranger.pem()).expect("write");
    std::fs::write(&key, stranger_key.serialize_pem()).expect("write");
    let foreign = ClientArgs {
        ca_cert: Some(pki.ca.clone()),
        client_cert: Some(cert),
        client_key: Some(key),
        ..Default::default()
    };
    assert!(
        stats(&d, &foreign).await.is_err(),
        "a certificate from elsewhere"
    );

    let with = ClientArgs {
        ca_cert: Some(pki.ca.clone()),
        client_cert: Some(pki.client_cert.clone()),
        client_key: Some(pki.client_key.clone()),
        ..Default::default()
    };
    stats(&d, &with).await.expect("the CA's client certificate");
}
