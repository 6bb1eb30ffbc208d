//! The API's OpenAPI 3.1 description, made from the code: each JSON route is registered with
//! its handler's `#[utoipa::path]` annotation (so a route cannot exist undocumented), the
//! schemas are derived from the types the handlers answer with, and what every operation
//! shares — its authentication and the errors authentication brings — is added here once.
//! Served at `/api/v1/openapi.json`.

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::App;
use super::api::ApiError;
use crate::error::Error;

/// Where the description is served.
pub const PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth API",
        version = "1",
        description = "The JSON API of a Hearth server. Authenticate with a personal API token \
            (`Authorization: Bearer hearth_…`, made at /account/tokens) or, from a browser, with \
            the session cookie that `POST /api/v1/session` sets (writes then need a same-origin \
            `Origin` header). Never both at once. Errors answer `{\"error\": {\"code\", \
            \"message\"}}`; `429` and `503` carry `Retry-After`. Live events come over the \
            WebSocket at `/api/v1/ws`, described in docs/protocol.md.",
        license(name = "MIT"),
    ),
    security(("bearer" = []), ("cookie" = [])),
    components(schemas(ErrorBody)),
)]
struct ApiDoc;

/// An error as the API answers it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    /// A stable code: `invalid`, `not_found`, `conflict`, `gone`, `forbidden`,
    /// `unauthorized`, `token_invalid`, `token_expired`, `token_revoked`,
    /// `insufficient_scope`, `token_with_cookie`, `too_large`, `rate_limited`, `busy`,
    /// `unavailable` or `internal`.
    #[schema(example = "not_found")]
    code: String,
    /// What went wrong, for people.
    message: String,
}

/// Adds the security schemes, and to every operation that needs authentication the `401` it
/// answers without it, the `400` of a token sent with a cookie, and — for writes — the `403`
/// a read-only token gets.
struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal or bot API token (`hearth_…`)."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::auth::COOKIE,
                "The browser session set by signing in; writes need a same-origin Origin.",
            ))),
        );
        for item in doc.paths.paths.values_mut() {
            let operations = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ];
            for (method, op) in operations {
                if let Some(op) = op {
                    complete(method, op);
                }
            }
        }
    }
}

/// Whether an operation needs authentication: it does unless it says `security(())`.
fn is_public(op: &Operation) -> bool {
    op.security
        .as_ref()
        .is_some_and(|reqs| reqs.iter().all(|r| *r == Default::default()))
}

fn complete(method: HttpMethod, op: &mut Operation) {
    if is_public(op) {
        return;
    }
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "ErrorBody",
                        ))))
                        .build(),
                )
                .build(),
        )
    };
    let responses = &mut op.responses.responses;
    const BOTH: &str = "A bearer token sent with a session cookie (`token_with_cookie`).";
    match responses.get_mut("400") {
        Some(RefOr::T(bad)) => bad.description = format!("{} Or: {BOTH}", bad.description),
        _ => {
            responses.insert("400".into(), error(BOTH));
        }
    }
    responses.entry("401".into()).or_insert_with(|| {
        error("No valid credentials: no token or session, or a token that is not valid, has expired or was revoked.")
    });
    if method != HttpMethod::Get {
        const WRITE: &str = "a read-only token (`insufficient_scope`), or a cookie-authenticated write from another origin.";
        match responses.get_mut("403") {
            Some(RefOr::T(refused)) => {
                refused.description = format!("{} Or: {WRITE}", refused.description)
            }
            _ => {
                responses.insert("403".into(), error(&format!("Not allowed: {WRITE}")));
            }
        }
    }
}

/// Every documented route of the API, each folder's merged.
fn documented() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(super::api::documented())
        .merge(super::api_chat::documented())
        .merge(super::tokens::api())
        .merge(super::invites::api())
        .merge(super::webhooks::api())
        .merge(super::outgoing::api())
        .merge(super::admin::api())
        .merge(super::account::api())
        .merge(super::email::api())
        .merge(super::notify::api())
        .merge(super::search::api())
        .merge(super::files::api())
        .merge(super::pictures::api())
        .merge(super::support::api())
}

/// The routes and the finished description, as JSON. Made on a thread of its own: building
/// the description allocates a few MB that are all freed once it is written out, and on a
/// short-lived thread they are not left in the main heap for the life of the process.
fn parts() -> (Router<App>, Bytes) {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let (router, doc) = documented().split_for_parts();
                (router, finished(doc))
            })
            .join()
            .expect("the API description is made")
    })
}

/// The description with what every operation shares, serialized. Ids are `i64` aliases
/// (`MessageId`, `UserId`…), which the generator names as a schema of their own, `i64`:
/// written in place instead, as the integers they are.
fn finished(mut doc: utoipa::openapi::OpenApi) -> Bytes {
    Shared.modify(&mut doc);
    if let Some(components) = doc.components.as_mut() {
        components.schemas.remove("i64");
    }
    let json = serde_json::to_string(&doc).expect("the API description serializes");
    Bytes::from(json.replace(
        r##""$ref":"#/components/schemas/i64""##,
        r#""type":"integer","format":"int64""#,
    ))
}

/// The documented routes (answering JSON for a method a path does not take) and the
/// description, serialized once.
pub fn routes() -> Router<App> {
    let (router, json) = parts();
    router
        .method_not_allowed_fallback(|| async {
            let mut res =
                ApiError(Error::invalid("method not allowed on this path")).into_response();
            *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            res
        })
        .route(PATH, get(move || std::future::ready(served(json.clone()))))
}

fn served(json: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        json,
    )
        .into_response()
}
