//! `Posted<T>`: a form posted by the signed-in user, its CSRF token already checked. Every
//! page form handler takes one, so none can forget the check.

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::App;
use super::auth::PageSession;
use super::html::PageError;
use crate::chat::secrets;
use crate::error::Error;

/// A form that carries the session's CSRF token in its `csrf` field.
pub trait Csrf {
    fn csrf(&self) -> &str;
}

/// Implements [`Csrf`] for form structs with a `csrf: String` field.
macro_rules! csrf_field {
    ($($form:ty),* $(,)?) => {
        $(impl $crate::web::posted::Csrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}
pub(crate) use csrf_field;

/// Repeated fields (`members=1&members=2`) are read as pairs.
impl Csrf for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Plain {
    #[serde(default)]
    csrf: String,
}

csrf_field!(Plain);

/// The signed-in session and its form. Not signed in: to the login page. A form that cannot
/// be read: 400 (413 when too large). A stale or forged token: 403. Nothing runs in any case.
pub struct Posted<T>(pub PageSession, pub T);

impl<S, T> FromRequest<S> for Posted<T>
where
    S: Send + Sync,
    App: FromRef<S>,
    T: DeserializeOwned + Csrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = PageSession::from_request_parts(&mut parts, state).await?;
        let form = super::html::form::<T, S>(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !secrets::same_secret(form.csrf(), &session.0.csrf_token) {
            let err = Error::Forbidden("the form was stale or forged; reload and try again".into());
            return Err(PageError(err).into_response());
        }
        Ok(Posted(session, form))
    }
}
