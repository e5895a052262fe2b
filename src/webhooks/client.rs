//! The HTTP client of deliveries: hyper-util's pooled client (hyper 1 and hyper-util were
//! already dependencies of the metrics server) with hyper-rustls for https, on the rustls and
//! ring that tonic's TLS already brings, trusting the Mozilla roots (webpki-roots) so that a
//! container without a CA bundle works. reqwest would add a second HTTP stack for one POST.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for http:// and https:// URLs (HTTP/1.1, connections pooled per host).
pub fn client() -> HttpClient {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// One POST: the headers and the body as given.
pub struct Post<'a> {
    pub url: &'a str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Sends `post`, waiting at most `timeout` for the response's status; `Err` says why it did
/// not get a 2xx (in words fit for `ListWebhooks`' last_error: never the secret or the body).
pub async fn send(client: &HttpClient, post: Post<'_>, timeout: Duration) -> Result<(), String> {
    let mut request = hyper::Request::post(post.url).header("content-type", "application/json");
    for (name, value) in &post.headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(post.body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| format!("no response within {timeout:?}"))?
        .map_err(|e| describe(&e))?;
    let status = response.status();
    match status.is_success() {
        true => Ok(()),
        false => Err(format!("the receiver answered HTTP {status}")),
    }
}

/// A client error with its causes ("client error (Connect): tcp connect error: Connection
/// refused").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
