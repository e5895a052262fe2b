//! The wallboard's routes on the metrics port:
//! - `GET /board`: the page (needs a token when authentication is on);
//! - `GET /board/board.js`, `GET /board/board.css`: its script and style (no data, open);
//! - `GET /board/data`: the latest snapshot as JSON (needs a token when authentication is on).
//!
//! Auth as for gRPC: without a token file everyone may look (the daemon then serves loopback
//! only, or was told `--insecure`); with one, an admin or integrator token, sent as
//! `Authorization: Bearer <token>` or, since a wall screen's browser cannot set headers, as
//! `/board?token=<token>`, which the page then sends on its data requests. Neither is logged.
//! Every answer forbids caching and referrers (the token is in the page's address), and the
//! page may load nothing but its own assets and data (Content-Security-Policy).

use super::Board;
use crate::auth::{Authenticator, Viewer};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("board.js");
const STYLE: &str = include_str!("board.css");

/// Nothing but the board's own assets and data, no inline code, no other origin.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'";

/// The board's routes and who may see them.
#[derive(Clone)]
pub struct Routes {
    board: Board,
    auth: Authenticator,
}

impl Routes {
    pub fn new(board: Board, auth: Authenticator) -> Routes {
        Routes { board, auth }
    }

    /// The answer to `req` if its path is the board's (`/board` or under it), else `None`.
    pub fn respond<B>(&self, req: &Request<B>) -> Option<Response<Full<Bytes>>> {
        let path = req.uri().path();
        if path != "/board" && !path.starts_with("/board/") {
            return None;
        }
        if req.method() != Method::GET {
            return Some(plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"));
        }
        Some(match path {
            "/board/board.js" => asset("text/javascript; charset=utf-8", SCRIPT),
            "/board/board.css" => asset("text/css; charset=utf-8", STYLE),
            "/board" | "/board/" => self.guarded(req, || asset("text/html; charset=utf-8", PAGE)),
            "/board/data" => self.guarded(req, || {
                answer(StatusCode::OK, "application/json", self.board.data())
            }),
            _ => plain(StatusCode::NOT_FOUND, "not found: try /board\n"),
        })
    }

    /// `serve()` if the caller may see the board, else 401 or 403.
    fn guarded<B>(
        &self,
        req: &Request<B>,
        serve: impl FnOnce() -> Response<Full<Bytes>>,
    ) -> Response<Full<Bytes>> {
        match self.auth.viewer(token(req)) {
            Viewer::Allowed => serve(),
            Viewer::Unauthenticated => {
                let mut r = plain(
                    StatusCode::UNAUTHORIZED,
                    "a token is required: open /board?token=<an admin or integrator token>, \
                     or send 'Authorization: Bearer <token>'\n",
                );
                r.headers_mut().insert(
                    hyper::header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer"),
                );
                r
            }
            Viewer::Forbidden => plain(
                StatusCode::FORBIDDEN,
                "the board needs an admin or integrator token\n",
            ),
        }
    }
}

/// The caller's token: the bearer of `Authorization`, else the `token` query parameter.
fn token<B>(req: &Request<B>) -> Option<&str> {
    let header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    header.or_else(|| {
        req.uri()
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
    })
}

fn asset(content_type: &'static str, body: &'static str) -> Response<Full<Bytes>> {
    answer(
        StatusCode::OK,
        content_type,
        Bytes::from_static(body.as_bytes()),
    )
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    answer(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(text.as_bytes()),
    )
}

fn answer(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (hyper::header::CONTENT_TYPE, content_type),
        (hyper::header::CACHE_CONTROL, "no-store"),
        (hyper::header::REFERRER_POLICY, "no-referrer"),
        (hyper::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (hyper::header::CONTENT_SECURITY_POLICY, POLICY),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
